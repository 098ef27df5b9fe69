import type { Logger } from 'pino';
import type { CredentialRecord } from '../store/credential-store.ts';

/**
 * What happens to credentials, for the parts that act on them (trigger subscriptions subscribe,
 * tear down and mark themselves errored from here). Listeners run after the change committed;
 * teardowns run before a credential is deleted, and what they report comes back as warnings.
 */
export type CredentialEvent =
  | { type: 'connected'; credential: CredentialRecord }
  | { type: 'reconnected'; credential: CredentialRecord }
  | { type: 'needs_reauth'; credential: CredentialRecord }
  | { type: 'deleted'; credential: CredentialRecord };

export type CredentialListener = (event: CredentialEvent) => void | Promise<void>;
/** Undoes what hangs off a credential at the provider; returns warnings (a failure is one too). */
export type CredentialTeardown = (credential: CredentialRecord) => Promise<string[]>;

export interface CredentialEvents {
  on(listener: CredentialListener): () => void;
  onTeardown(teardown: CredentialTeardown): () => void;
  emit(event: CredentialEvent): Promise<void>;
  teardown(credential: CredentialRecord): Promise<string[]>;
}

export function createCredentialEvents(logger: Logger): CredentialEvents {
  const listeners = new Set<CredentialListener>();
  const teardowns = new Set<CredentialTeardown>();
  const log = logger.child({ scope: 'credential-events' });
  return {
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onTeardown(teardown) {
      teardowns.add(teardown);
      return () => teardowns.delete(teardown);
    },
    async emit(event) {
      for (const listener of listeners) {
        try {
          await listener(event);
        } catch (err) {
          log.error(
            { err, credentialId: event.credential.id, event: event.type },
            'credential listener failed',
          );
        }
      }
    },
    async teardown(credential) {
      const warnings: string[] = [];
      for (const teardown of teardowns) {
        try {
          warnings.push(...(await teardown(credential)));
        } catch (err) {
          warnings.push(`teardown failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return warnings;
    },
  };
}
