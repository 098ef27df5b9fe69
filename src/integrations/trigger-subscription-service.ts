import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { type CredentialId, newId, type ProjectId, type TriggerSubscriptionId } from '../domain/ids.ts';
import { compileJsonPath } from '../ingest/verification/json-path.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { CredentialRecord } from '../store/credential-store.ts';
import type { Store } from '../store/store.ts';
import type {
  TriggerSubscriptionFilter,
  TriggerSubscriptionRecord,
  TriggerSubscriptionStateUpdate,
} from '../store/trigger-subscription-store.ts';
import type { CredentialEvents } from './credential-events.ts';
import type { CredentialRefresher, FreshCredential } from './credential-refresher.ts';
import { parseDeclaredValues } from './credential-service.ts';
import type {
  IntegrationDefinition,
  RequestTemplate,
  ResponsePaths,
  TriggerDefinition,
} from './integration-definition.ts';
import type { IntegrationService } from './integration-service.ts';
import type { ProviderFetch } from './provider-http.ts';
import { renderRequest, type TemplateContext, TemplateError } from './template-renderer.ts';

/** The most of a provider's refusal kept as the subscription's error. */
const MAX_ERROR_CHARS = 500;
/** How far ahead the renewal pass looks; a trigger's own `beforeExpirySeconds` decides within it. */
export const RENEW_LOOKAHEAD_MS = 30 * 24 * 3600 * 1000;
const RENEW_BATCH = 200;

export interface TriggerSubscriptionInput {
  integration: string;
  type: string;
  parameters?: unknown;
  credentialId: CredentialId;
  webhookOverride?: { url: string; headers?: Record<string, string> };
}

/** What a provider call came to: a 2xx with its JSON, or a refusal with its reason. */
type CallOutcome =
  | { ok: true; status: number; json: unknown }
  | { ok: false; status: number | null; reason: string };

const invalid = (detail: string) => new HookyardError('validation_failed', detail);

function readPath(json: unknown, path: string | undefined): unknown {
  return path === undefined ? undefined : compileJsonPath(path).read(json);
}

function asText(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** An expiry as providers give it: ISO 8601 text, or epoch seconds or milliseconds. */
function expiryMs(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e12 ? value * 1000 : value;
  if (typeof value === 'string' && value !== '') {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
    const n = Number(value);
    if (Number.isFinite(n)) return n < 1e12 ? n * 1000 : n;
  }
  return null;
}

/**
 * Trigger subscriptions of `setup: api` triggers: the provider's webhook is created with the
 * trigger's `subscribe` request on the user's credential, renewed before it expires, created again
 * when the provider says it is gone, and deleted with `unsubscribe`.
 *
 * State rules: PENDING while the subscribe request is in flight; ACTIVE once the provider accepted
 * it; ERRORED with the reason when the provider refused a subscribe or renew, the answer lacked
 * the id the definition names, or the credential needs re-auth. A subscription that fails is kept
 * (ERRORED) so the user sees why; the caller decides whether to delete it.
 */
export function createTriggerSubscriptionService(deps: {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  integrations: Pick<IntegrationService, 'find'>;
  refresher: Pick<CredentialRefresher, 'getFreshCredential'>;
  credentialEvents: CredentialEvents;
  providerFetch: ProviderFetch;
  publicBaseUrl: string;
  logger: Logger;
}) {
  const { store, secrets: box, clock, integrations, refresher, providerFetch } = deps;
  const log = deps.logger.child({ scope: 'trigger-subscriptions' });

  const webhookUrl = (id: TriggerSubscriptionId) => `${deps.publicBaseUrl}/in/${id}`;

  async function triggerOf(
    projectId: ProjectId,
    integration: string,
    type: string,
  ): Promise<{ definition: IntegrationDefinition; trigger: TriggerDefinition }> {
    const { definition } = await integrations.find(projectId, integration);
    const trigger = definition.triggers.find((t) => t.type === type);
    if (!trigger) {
      throw invalid(
        `type: ${integration} has no trigger ${JSON.stringify(type)}; expected one of ${definition.triggers.map((t) => t.type).join(', ')}`,
      );
    }
    return { definition, trigger };
  }

  function context(
    sub: TriggerSubscriptionRecord,
    fresh: FreshCredential,
    extra: TemplateContext['subscription'] = {},
  ): TemplateContext {
    return {
      settings: { webhookURL: webhookUrl(sub.id) },
      credential: fresh.templateContext,
      parameters: sub.parameters,
      subscription: {
        ...(sub.providerSubscriptionId !== null ? { providerId: sub.providerSubscriptionId } : {}),
        ...(sub.secretSealed !== null ? { secret: box.open(sub.secretSealed) } : {}),
        saved: sub.saved,
        ...extra,
      },
    };
  }

  async function call(
    template: RequestTemplate,
    ctx: TemplateContext,
    fresh: FreshCredential,
    field: string,
  ): Promise<CallOutcome> {
    let rendered: ReturnType<typeof renderRequest>;
    try {
      rendered = renderRequest(template, ctx, { field, auth: fresh.auth });
    } catch (err) {
      if (err instanceof TemplateError) return { ok: false, status: null, reason: err.message };
      throw err;
    }
    let response: Response;
    try {
      response = await providerFetch(rendered.url, {
        method: rendered.method,
        headers: rendered.headers,
        ...(rendered.body !== undefined ? { body: rendered.body } : {}),
      });
    } catch (err) {
      const reason =
        err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      return { ok: false, status: null, reason: `${new URL(rendered.url).origin} did not answer: ${reason}` };
    }
    const text = await response.text();
    if (response.status < 200 || response.status > 299) {
      return {
        ok: false,
        status: response.status,
        reason: `the provider answered ${response.status}: ${text.slice(0, MAX_ERROR_CHARS)}`,
      };
    }
    let json: unknown = null;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    return { ok: true, status: response.status, json };
  }

  /** What a 2xx answer to subscribe or renew says, per the definition's response paths. */
  function accepted(
    sub: TriggerSubscriptionRecord,
    json: unknown,
    paths: ResponsePaths | undefined,
    requestedExpiryMs: number | null,
    nowMs: number,
  ): TriggerSubscriptionStateUpdate {
    const providerId = paths?.id ? asText(readPath(json, paths.id)) : sub.providerSubscriptionId;
    if (paths?.id && providerId === null) {
      return {
        ...stateOf(sub, nowMs),
        status: 'ERRORED',
        error: `the provider's answer has no subscription id at ${paths.id}`,
      };
    }
    const secret = paths?.secret ? asText(readPath(json, paths.secret)) : null;
    const saved = { ...sub.saved };
    for (const [name, path] of Object.entries(paths?.save ?? {})) {
      const value = readPath(json, path);
      if (value !== undefined) saved[name] = value;
    }
    const expiry = paths?.expiresAt ? expiryMs(readPath(json, paths.expiresAt)) : null;
    return {
      status: 'ACTIVE',
      error: null,
      providerSubscriptionId: providerId,
      secretSealed: secret !== null ? box.seal(secret) : sub.secretSealed,
      saved,
      expiresAtMs: expiry ?? requestedExpiryMs,
      nowMs,
    };
  }

  const stateOf = (sub: TriggerSubscriptionRecord, nowMs: number): TriggerSubscriptionStateUpdate => ({
    status: sub.status,
    error: sub.error,
    providerSubscriptionId: sub.providerSubscriptionId,
    secretSealed: sub.secretSealed,
    saved: sub.saved,
    expiresAtMs: sub.expiresAtMs,
    nowMs,
  });

  async function write(sub: TriggerSubscriptionRecord, update: TriggerSubscriptionStateUpdate) {
    const stored = await store.updateTriggerSubscriptionState(sub.id, update);
    if (update.status === 'ERRORED') {
      log.warn(
        { projectId: sub.projectId, triggerSubscriptionId: sub.id, error: update.error },
        'subscription errored',
      );
    }
    return stored ?? { ...sub, ...update, updatedAtMs: update.nowMs };
  }

  /** The credential ready for a call, or the reason it is not (needs re-auth, refresh failed). */
  async function freshOrReason(sub: TriggerSubscriptionRecord): Promise<FreshCredential | string> {
    try {
      return await refresher.getFreshCredential(sub.credentialId);
    } catch (err) {
      if (err instanceof HookyardError) {
        return err.code === 'credential_needs_reauth'
          ? `credential ${sub.credentialId} needs re-auth: ${err.detail}`
          : err.detail;
      }
      throw err;
    }
  }

  /** Performs the trigger's subscribe request and stores what the provider answered. */
  async function subscribe(
    sub: TriggerSubscriptionRecord,
    trigger: TriggerDefinition,
  ): Promise<TriggerSubscriptionRecord> {
    const template = trigger.subscribe;
    if (!template) return write(sub, { ...stateOf(sub, clock.nowMs()), status: 'ACTIVE', error: null });
    const fresh = await freshOrReason(sub);
    if (typeof fresh === 'string') {
      return write(sub, { ...stateOf(sub, clock.nowMs()), status: 'ERRORED', error: fresh });
    }
    const requestedExpiryMs =
      template.expiresInSeconds !== undefined ? clock.nowMs() + template.expiresInSeconds * 1000 : null;
    const ctx = context(
      { ...sub, providerSubscriptionId: null, secretSealed: null, saved: {} },
      fresh,
      requestedExpiryMs !== null ? { expiresAt: new Date(requestedExpiryMs).toISOString() } : {},
    );
    const outcome = await call(template.request, ctx, fresh, `triggers.${trigger.type}.subscribe.request`);
    const nowMs = clock.nowMs();
    if (!outcome.ok) {
      return write(sub, { ...stateOf(sub, nowMs), status: 'ERRORED', error: outcome.reason });
    }
    const fresh0 = { ...sub, providerSubscriptionId: null, secretSealed: null, saved: {} };
    return write(sub, accepted(fresh0, outcome.json, template.response, requestedExpiryMs, nowMs));
  }

  /** Performs the trigger's unsubscribe request; returns warnings (a failure is one). */
  async function unsubscribe(sub: TriggerSubscriptionRecord): Promise<string[]> {
    let trigger: TriggerDefinition;
    try {
      ({ trigger } = await triggerOf(sub.projectId, sub.integration, sub.triggerType));
    } catch (err) {
      return [
        `${sub.id}: the trigger is gone, nothing was removed at the provider (${(err as Error).message})`,
      ];
    }
    if (
      !trigger.unsubscribe ||
      sub.status === 'PENDING' ||
      (sub.providerSubscriptionId === null && trigger.subscribe?.response?.id)
    ) {
      return [];
    }
    const fresh = await freshOrReason(sub);
    if (typeof fresh === 'string') return [`${sub.id}: not removed at the provider: ${fresh}`];
    const outcome = await call(
      trigger.unsubscribe.request,
      context(sub, fresh),
      fresh,
      `triggers.${trigger.type}.unsubscribe.request`,
    );
    // Gone already is what was asked for.
    if (outcome.ok || outcome.status === 404 || outcome.status === 410) return [];
    return [`${sub.id}: not removed at the provider: ${outcome.reason}`];
  }

  /**
   * Renews one subscription: the trigger's `renew` request when it has one, else a new subscribe.
   * A provider that says the subscription is gone (404, 410) gets a new one.
   */
  async function renew(sub: TriggerSubscriptionRecord): Promise<TriggerSubscriptionRecord> {
    const { trigger } = await triggerOf(sub.projectId, sub.integration, sub.triggerType);
    if (!trigger.renew) {
      // No way to extend it: replace it, removing the old webhook so the provider does not send
      // every event twice.
      const warnings = await unsubscribe(sub);
      if (warnings.length > 0)
        log.warn(
          { projectId: sub.projectId, triggerSubscriptionId: sub.id, warnings },
          'old webhook not removed',
        );
      return subscribe(sub, trigger);
    }
    const fresh = await freshOrReason(sub);
    if (typeof fresh === 'string') {
      return write(sub, { ...stateOf(sub, clock.nowMs()), status: 'ERRORED', error: fresh });
    }
    const expiresIn = trigger.subscribe?.expiresInSeconds;
    const requestedExpiryMs = expiresIn !== undefined ? clock.nowMs() + expiresIn * 1000 : null;
    const outcome = await call(
      trigger.renew.request,
      context(
        sub,
        fresh,
        requestedExpiryMs !== null ? { expiresAt: new Date(requestedExpiryMs).toISOString() } : {},
      ),
      fresh,
      `triggers.${trigger.type}.renew.request`,
    );
    const nowMs = clock.nowMs();
    if (outcome.ok)
      return write(sub, accepted(sub, outcome.json, trigger.renew.response, requestedExpiryMs, nowMs));
    if (outcome.status === 404 || outcome.status === 410) {
      log.info(
        { projectId: sub.projectId, triggerSubscriptionId: sub.id },
        'subscription gone at the provider; subscribing again',
      );
      return subscribe(sub, trigger);
    }
    return write(sub, { ...stateOf(sub, nowMs), status: 'ERRORED', error: outcome.reason });
  }

  // A credential's subscriptions are removed at the provider before the credential goes (its rows
  // go with it); one that needs re-auth takes its subscriptions to ERRORED.
  deps.credentialEvents.onTeardown(async (credential: CredentialRecord) => {
    const warnings: string[] = [];
    for (const sub of await store.listTriggerSubscriptionsOfCredential(credential.id)) {
      warnings.push(...(await unsubscribe(sub)));
    }
    return warnings;
  });
  deps.credentialEvents.on(async (event) => {
    if (event.type !== 'needs_reauth') return;
    for (const sub of await store.listTriggerSubscriptionsOfCredential(event.credential.id)) {
      await write(sub, {
        ...stateOf(sub, clock.nowMs()),
        status: 'ERRORED',
        error: `credential ${sub.credentialId} needs re-auth: ${event.credential.statusReason ?? 'the provider refused it'}`,
      });
    }
  });

  return {
    webhookUrl,

    /**
     * Creates the subscription and subscribes at the provider. A provider refusal is not an error
     * of this call: the subscription is stored ERRORED with the reason, and answered so.
     */
    async create(projectId: ProjectId, input: TriggerSubscriptionInput): Promise<TriggerSubscriptionRecord> {
      const { trigger } = await triggerOf(projectId, input.integration, input.type);
      if (trigger.setup !== 'api' || trigger.level !== 'user') {
        throw invalid(
          `type: ${input.integration} trigger ${input.type} is set up ${trigger.setup === 'api' ? 'once per app (level app)' : 'by hand (setup manual)'}; subscriptions are for user-level triggers with setup api`,
        );
      }
      const credential = await store.getCredential(projectId, input.credentialId);
      if (!credential) throw notFound(`credential ${input.credentialId}`);
      if (credential.integration !== input.integration) {
        throw invalid(
          `credentialId: credential ${credential.id} is for ${credential.integration}, not ${input.integration}`,
        );
      }
      const parameters = parseDeclaredValues(trigger.parameters ?? [], input.parameters, {
        field: 'parameters',
        what: 'parameter',
        owner: `${input.integration} trigger ${input.type}`,
      });
      const nowMs = clock.nowMs();
      const sub: TriggerSubscriptionRecord = {
        id: newId('triggerSubscription', nowMs),
        projectId,
        integration: input.integration,
        triggerType: input.type,
        credentialId: credential.id,
        userId: credential.userId,
        parameters,
        status: 'PENDING',
        error: null,
        providerSubscriptionId: null,
        secretSealed: null,
        saved: {},
        expiresAtMs: null,
        webhookOverride: input.webhookOverride ?? null,
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
        lastReceivedEventAtMs: null,
      };
      await store.insertTriggerSubscription(sub);
      return subscribe(sub, trigger);
    },

    async get(projectId: ProjectId, id: TriggerSubscriptionId): Promise<TriggerSubscriptionRecord> {
      const sub = await store.getTriggerSubscription(projectId, id);
      if (!sub) throw notFound(`trigger subscription ${id}`);
      return sub;
    },

    list(projectId: ProjectId, options: TriggerSubscriptionFilter & { limit: number; after?: string }) {
      return store.listTriggerSubscriptions(projectId, options);
    },

    /** Unsubscribes at the provider, then deletes; a failed unsubscribe is a warning. */
    async delete(projectId: ProjectId, id: TriggerSubscriptionId): Promise<{ warnings: string[] }> {
      const sub = await store.getTriggerSubscription(projectId, id);
      if (!sub) throw notFound(`trigger subscription ${id}`);
      const warnings = await unsubscribe(sub);
      if (!(await store.deleteTriggerSubscription(projectId, id)))
        throw notFound(`trigger subscription ${id}`);
      log.info({ projectId, triggerSubscriptionId: id, warnings }, 'subscription deleted');
      return { warnings };
    },

    /**
     * One renewal pass: every subscription not ERRORED whose expiry falls within its trigger's
     * `renew.beforeExpirySeconds` (or, without a renew template, a minute) is renewed.
     * Returns how many were renewed or re-subscribed successfully, and how many errored.
     */
    async renewDue(): Promise<{ renewed: number; errored: number }> {
      const nowMs = clock.nowMs();
      let renewed = 0;
      let errored = 0;
      for (const sub of await store.listTriggerSubscriptionsExpiring(
        nowMs + RENEW_LOOKAHEAD_MS,
        RENEW_BATCH,
      )) {
        if (sub.status !== 'ACTIVE' || sub.expiresAtMs === null) continue;
        let before = 60;
        try {
          const { trigger } = await triggerOf(sub.projectId, sub.integration, sub.triggerType);
          before = trigger.renew?.beforeExpirySeconds ?? 60;
        } catch {
          continue;
        }
        if (sub.expiresAtMs - before * 1000 > nowMs) continue;
        try {
          const after = await renew(sub);
          if (after.status === 'ACTIVE') renewed++;
          else errored++;
        } catch (err) {
          errored++;
          log.error({ err, projectId: sub.projectId, triggerSubscriptionId: sub.id }, 'renewal failed');
        }
      }
      return { renewed, errored };
    },
  };
}

export type TriggerSubscriptionService = ReturnType<typeof createTriggerSubscriptionService>;
