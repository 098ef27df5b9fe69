import { randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import type { CredentialId } from '../domain/ids.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { CredentialRecord } from '../store/credential-store.ts';
import type { Store } from '../store/store.ts';
import { credentialAuth } from './credential-auth.ts';
import type { CredentialEvents } from './credential-events.ts';
import type { SealedCredentialSecrets } from './credential-service.ts';
import type { IntegrationDefinition } from './integration-definition.ts';
import type { IntegrationService } from './integration-service.ts';
import { createOAuthApp, describeOAuthError, tokenSet } from './oauth-client.ts';
import type { ProviderFetch } from './provider-http.ts';
import type { CredentialAuth, TemplateContext } from './template-renderer.ts';

/** Refreshed this long before the provider's expiry, so a request sent now still carries a live token. */
export const REFRESH_AHEAD_MS = 60_000;
/** How long one process may hold a credential's refresh before another may take over. */
export const REFRESH_LEASE_MS = 30_000;
const WAIT_STEP_MS = 100;

/** A credential ready for a provider call: its live tokens, settings and the auth to send. */
export interface FreshCredential {
  record: CredentialRecord;
  definition: IntegrationDefinition;
  secrets: SealedCredentialSecrets;
  settings: Record<string, unknown>;
  /** The default auth of provider requests for this credential (credential-auth.ts). */
  auth: CredentialAuth | undefined;
  /** The `credential` part of a request template's context. */
  templateContext: NonNullable<TemplateContext['credential']>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `getFreshCredential(id)`: what every provider call goes through. An OAuth access token that
 * expires within a minute is refreshed first.
 *
 * Rotating refresh tokens (Slack, Zoom, Calendly, Linear…) work once: of two processes spending
 * the same one, the second gets `invalid_grant` and, were it to act on that, would mark a healthy
 * credential as revoked. So one process at a time holds a lease on the credential's refresh
 * (compare-and-set on its version); it stores the new access token with the new refresh token in
 * one write before anyone uses either, and the others wait and read what it stored. Only the
 * holder of the lease acts on `invalid_grant`: the credential becomes `needs_reauth` with the
 * provider's reason. A lease whose holder died lapses after REFRESH_LEASE_MS.
 */
export function createCredentialRefresher(deps: {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  integrations: Pick<IntegrationService, 'find' | 'oauthClient'>;
  events: CredentialEvents;
  providerFetch: ProviderFetch;
  logger: Logger;
}) {
  const { store, secrets: box, clock, integrations, events, providerFetch } = deps;
  const log = deps.logger.child({ scope: 'credential-refresh' });
  const inFlight = new Map<CredentialId, Promise<FreshCredential>>();

  async function ready(record: CredentialRecord): Promise<FreshCredential> {
    const { definition } = await integrations.find(record.projectId, record.integration);
    const secrets = JSON.parse(box.open(record.secretsSealed)) as SealedCredentialSecrets;
    const settings = JSON.parse(box.open(record.settingsSealed)) as Record<string, unknown>;
    return {
      record,
      definition,
      secrets,
      settings,
      auth: credentialAuth(definition.auth, secrets),
      templateContext: {
        ...(secrets.accessToken !== undefined ? { accessToken: secrets.accessToken } : {}),
        ...(record.providerAccountId !== null ? { providerAccountId: record.providerAccountId } : {}),
        settings,
      },
    };
  }

  function needsReauth(record: CredentialRecord): HookyardError {
    return new HookyardError(
      'credential_needs_reauth',
      `credential ${record.id} needs the user to connect ${record.integration} again: ${record.statusReason ?? 'the provider refused it'}`,
    );
  }

  const due = (record: CredentialRecord, nowMs: number) =>
    record.authType === 'oauth2' &&
    record.accessTokenExpiresAtMs !== null &&
    record.accessTokenExpiresAtMs - REFRESH_AHEAD_MS <= nowMs;

  /** Refreshes under the lease `owner` holds; returns the stored credential, or null when the lease was lost. */
  async function refreshHeld(record: CredentialRecord, owner: string): Promise<CredentialRecord | null> {
    const fresh = await ready(record);
    const { definition, secrets, settings } = fresh;
    const fail = async (reason: string) => {
      const failed = await store.failCredentialRefresh(
        record.id,
        owner,
        'needs_reauth',
        reason,
        clock.nowMs(),
      );
      if (failed) {
        log.warn(
          { projectId: record.projectId, credentialId: record.id, integration: record.integration, reason },
          'credential needs reauthorization',
        );
        await events.emit({ type: 'needs_reauth', credential: failed });
      }
      throw needsReauth(failed ?? { ...record, statusReason: reason });
    };
    if (definition.auth.type !== 'oauth2') {
      await store.failCredentialRefresh(record.id, owner, 'active', null, clock.nowMs());
      return ready(record).then(() => store.getCredentialById(record.id));
    }
    if (secrets.refreshToken === undefined) {
      return fail('the access token expired and the provider gave no refresh token');
    }
    const client = await integrations.oauthClient(record.projectId, record.integration);
    if (client.clientId === null) {
      await store.failCredentialRefresh(record.id, owner, 'active', null, clock.nowMs());
      throw new HookyardError(
        'conflict',
        `the project has no OAuth client id for ${record.integration} (PUT …/integrations/${record.integration}/settings); the credential cannot be refreshed`,
      );
    }
    const app = createOAuthApp(
      definition.auth,
      { clientId: client.clientId, clientSecret: client.clientSecret },
      settings,
      providerFetch,
    );
    let tokens: ReturnType<typeof tokenSet>;
    try {
      const response = await oauth.refreshTokenGrantRequest(
        app.as,
        app.client,
        app.clientAuth,
        secrets.refreshToken,
        app.options,
      );
      tokens = tokenSet(await oauth.processRefreshTokenResponse(app.as, app.client, response), clock.nowMs());
    } catch (err) {
      const { invalidGrant, reason } = describeOAuthError(err);
      if (invalidGrant) return fail(`token refresh refused: ${reason}`);
      // Not the provider's verdict on the token (network, 5xx): the lease goes, the status stays.
      await store.failCredentialRefresh(record.id, owner, 'active', null, clock.nowMs());
      log.warn(
        { projectId: record.projectId, credentialId: record.id, integration: record.integration, reason },
        'credential refresh failed',
      );
      throw new HookyardError('provider_error', `refreshing credential ${record.id} failed: ${reason}`);
    }
    const next: SealedCredentialSecrets = {
      ...secrets,
      accessToken: tokens.accessToken,
      // A provider that does not rotate sends no new refresh token: the old one stays good.
      ...(tokens.refreshToken !== undefined ? { refreshToken: tokens.refreshToken } : {}),
    };
    const stored = await store.completeCredentialRefresh(record.id, owner, {
      secretsSealed: box.seal(JSON.stringify(next)),
      accessTokenExpiresAtMs: tokens.accessTokenExpiresAtMs,
      nowMs: clock.nowMs(),
    });
    if (!stored) {
      log.error(
        { projectId: record.projectId, credentialId: record.id, integration: record.integration },
        'credential refresh outlived its lease; the tokens it got were not stored',
      );
    } else {
      log.info(
        { projectId: record.projectId, credentialId: record.id, integration: record.integration },
        'credential refreshed',
      );
    }
    return stored;
  }

  async function fresh(id: CredentialId, options: { force?: boolean }): Promise<FreshCredential> {
    const deadlineMs = clock.nowMs() + REFRESH_LEASE_MS * 2;
    let forcedFrom: number | null = null;
    for (;;) {
      const record = await store.getCredentialById(id);
      if (!record) throw notFound(`credential ${id}`);
      if (record.status === 'needs_reauth') throw needsReauth(record);
      const nowMs = clock.nowMs();
      forcedFrom ??= options.force ? record.version : -1;
      const forced = options.force === true && record.version === forcedFrom;
      if (!forced && !due(record, nowMs)) return ready(record);
      const owner = `${process.pid}:${randomUUID()}`;
      if (await store.claimCredentialRefresh(id, record.version, owner, nowMs, nowMs + REFRESH_LEASE_MS)) {
        const stored = await refreshHeld(record, owner);
        if (stored) return ready(stored);
      } else if (clock.nowMs() > deadlineMs) {
        throw new HookyardError(
          'provider_error',
          `credential ${id} is being refreshed elsewhere for too long`,
        );
      } else {
        // Another process is refreshing it: what it stores is what we use.
        await sleep(WAIT_STEP_MS);
      }
    }
  }

  return {
    /**
     * The credential with a live access token, refreshing it when it expires within a minute.
     * `force` refreshes once whatever the expiry (a provider answered 401 to the token).
     * Throws `credential_needs_reauth` when the provider refused the refresh.
     */
    getFreshCredential(id: CredentialId, options: { force?: boolean } = {}): Promise<FreshCredential> {
      if (options.force) return fresh(id, options);
      const running = inFlight.get(id);
      if (running) return running;
      const promise = fresh(id, options).finally(() => inFlight.delete(id));
      inFlight.set(id, promise);
      return promise;
    },
  };
}

export type CredentialRefresher = ReturnType<typeof createCredentialRefresher>;
