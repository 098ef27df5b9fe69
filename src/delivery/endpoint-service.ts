import type { Clock } from '../domain/clock.ts';
import {
  DEFAULT_ENDPOINT_HEALTH_POLICY,
  type EndpointHealthPolicy,
  nextHealth,
} from '../domain/endpoint-health.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { validateEventTypeFilters, validateObjectTypeFilters } from '../domain/event-type-filter.ts';
import { type EndpointId, newId, type ProjectId } from '../domain/ids.ts';
import { createRetrySchedule } from '../domain/retry-policy.ts';
import type { SecretBox } from '../security/secret-box.ts';
import {
  type DeliverySettingsRecord,
  type EndpointRecord,
  NEW_ENDPOINT_HEALTH,
  type SignatureScheme,
} from '../store/delivery-store.ts';
import type { Store } from '../store/store.ts';
import { wakeDeliveryWorkers } from './delivery-wakeup.ts';
import {
  checkDeliveryUrl,
  checkEgressAddress,
  EgressBlockedError,
  type EgressLookup,
  egressEntriesOutside,
  InvalidDeliveryUrlError,
  narrowEgressAllowList,
  parseEgressAllowList,
  resolveEgressAddresses,
} from './egress-guard.ts';
import { generateEndpointSecret } from './endpoint-secret.ts';
import type { Cidr } from './ip-address.ts';
import { sealEndpointHeaders } from './sealed-endpoint-headers.ts';
import {
  DEFAULT_ROTATION_GRACE_MS,
  firstEndpointSecret,
  liveEndpointSecrets,
  openEndpointSecrets,
  rotateEndpointSecrets,
  sealEndpointSecrets,
} from './sealed-endpoint-secrets.ts';
import { validateSignatureHeaderName } from './signer.ts';

/**
 * Endpoints as the management API sees them: validation, secrets sealed at rest and shown once,
 * rotation with a grace period, enabling (which also clears health), recovery.
 */

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_SIGNATURE_HEADER = 'X-Webhook-Signature';
export const MAX_ENDPOINT_HEADERS = 32;

export interface EndpointInput {
  url: string;
  /** The user of the project it belongs to; set at creation only. Absent or null: project-wide. */
  userId?: string | null;
  name?: string;
  description?: string;
  eventTypes?: string[];
  objectTypes?: string[];
  headers?: Record<string, string>;
  rateLimitPerSecond?: number | null;
  maxConcurrency?: number | null;
  timeoutMs?: number;
  signatureScheme?: SignatureScheme;
  /** The plain hex HMAC header (with the `+hmac-sha256-hex` scheme). */
  signatureHeader?: string | null;
  enabled?: boolean;
  /** Import an existing `whsec_…` secret instead of generating one. */
  secret?: string;
}

export type EndpointPatch = Partial<Omit<EndpointInput, 'secret' | 'userId'>>;

/** As long as a message's userId may be. */
export const MAX_ENDPOINT_USER_ID_CHARS = 256;

/** The project's delivery settings as the API names them. */
export interface DeliverySettingsInput {
  retryScheduleMs?: number[] | null;
  egressAllow?: string[] | null;
}

/** How long creating or changing an endpoint waits for its host name to resolve. */
const URL_LOOKUP_TIMEOUT_MS = 2_000;

const RESERVED_HEADER =
  /^(webhook-|hookyard-)|^(content-type|content-length|host|user-agent|transfer-encoding|connection|keep-alive|proxy-connection|proxy-authenticate|proxy-authorization|upgrade|te|trailer|expect)$/i;
/** Hop-by-hop headers (RFC 9110 7.6.1) are for the next hop only: the HTTP client drops or refuses them. */
const HOP_BY_HOP =
  /^(connection|keep-alive|proxy-connection|proxy-authenticate|proxy-authorization|te|trailer|transfer-encoding|upgrade)$/i;
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII, space and tab: HTTP forbids control characters in a field value, and anything
// beyond ASCII is not sent the same way by every client or read the same way by every receiver.
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

function invalid(detail: string): HookyardError {
  return new HookyardError('validation_failed', detail);
}

/** Prefixes a primitive's validation message with the field it came from. */
function field<T>(name: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof HookyardError) throw invalid(`${name}: ${err.detail}`);
    throw err;
  }
}

function checkUrl(url: string, operatorAllow: readonly Cidr[]): string {
  let parsed: URL;
  try {
    parsed = checkDeliveryUrl(url);
  } catch (err) {
    if (err instanceof InvalidDeliveryUrlError) throw invalid(`url: ${err.message}`);
    throw err;
  }
  // An IP literal can be judged now; names are checked on every connect (DNS can change).
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (/^[\d.]+$/.test(host) || host.includes(':')) {
    const verdict = checkEgressAddress(host, operatorAllow);
    if (!verdict.allowed) {
      throw invalid(
        `url: deliveries to ${host} are blocked (${verdict.reason}); the operator can allow it with HOOKYARD_EGRESS_ALLOW.`,
      );
    }
  }
  return url;
}

/** Beyond the name's syntax: a header the receiver would never get is refused, not silently lost. */
function checkSignatureHeader(checked: string): string {
  if (HOP_BY_HOP.test(checked)) {
    throw invalid(
      `signatureHeader: "${checked}" is a hop-by-hop header, which is not passed on to the receiver; choose another, e.g. "X-Signature-SHA-256".`,
    );
  }
  if (/^hookyard-/i.test(checked)) {
    throw invalid(
      `signatureHeader: "${checked}" is in the hookyard-* namespace, which Hookyard sets itself; choose another, e.g. "X-Signature-SHA-256".`,
    );
  }
  return checked;
}

function checkHeaders(headers: Record<string, string>): Record<string, string> {
  const entries = Object.entries(headers);
  if (entries.length > MAX_ENDPOINT_HEADERS) {
    throw invalid(`headers: ${entries.length} given; expected at most ${MAX_ENDPOINT_HEADERS}.`);
  }
  for (const [name, value] of entries) {
    if (!HTTP_TOKEN.test(name) || name.length > 128) {
      throw invalid(`headers: "${name}" is not a valid header name (HTTP token characters, at most 128).`);
    }
    if (RESERVED_HEADER.test(name)) {
      throw invalid(`headers: "${name}" is set by Hookyard itself and cannot be overridden.`);
    }
    if (typeof value !== 'string' || value.length > 4096 || !HEADER_VALUE.test(value)) {
      throw invalid(
        `headers: the value of "${name}" must be a string of at most 4096 characters of visible ASCII, spaces and tabs (no control characters, line breaks or non-ASCII).`,
      );
    }
  }
  return { ...headers };
}

export function createEndpointService(deps: {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  /** The operator's egress allow list: URLs to blocked IP literals outside it are refused. */
  egressAllow?: readonly Cidr[];
  healthPolicy?: EndpointHealthPolicy;
  /** Resolves endpoint host names when an endpoint is saved; the system resolver by default. */
  lookup?: EgressLookup;
}) {
  const { store, secrets, clock } = deps;
  const operatorAllow = deps.egressAllow ?? [];

  /** The allow list deliveries of this project connect under (operator's, maybe narrowed). */
  async function projectAllow(projectId: ProjectId): Promise<readonly Cidr[]> {
    const settings = await store.getDeliverySettings(projectId);
    return settings?.egressAllow == null
      ? operatorAllow
      : narrowEgressAllowList(operatorAllow, parseEgressAllowList(settings.egressAllow));
  }

  /**
   * Resolves the URL's host as a delivery would. Every address blocked: refused now, since each
   * delivery would fail the same way and be retried for a day. A name that does not resolve yet
   * is accepted with a warning: its DNS record may simply not exist yet.
   */
  async function checkResolution(projectId: ProjectId, url: string): Promise<string[]> {
    const host = new URL(url).hostname;
    if (/^[\d.]+$/.test(host) || host.startsWith('[')) return [];
    try {
      await resolveEgressAddresses(host, {
        allow: await projectAllow(projectId),
        lookupTimeoutMs: URL_LOOKUP_TIMEOUT_MS,
        ...(deps.lookup ? { lookup: deps.lookup } : {}),
      });
      return [];
    } catch (err) {
      if (err instanceof EgressBlockedError) throw invalid(`url: ${err.message}`);
      const code = (err as { code?: string }).code ?? 'error';
      return [`url: ${host} does not resolve now (${code}); deliveries fail and are retried until it does.`];
    }
  }
  const healthPolicy = deps.healthPolicy ?? DEFAULT_ENDPOINT_HEALTH_POLICY;

  /** Applies (validated) fields onto a record. */
  function apply(base: EndpointRecord, patch: EndpointPatch): EndpointRecord {
    const next: EndpointRecord = { ...base };
    if (patch.url !== undefined) next.url = checkUrl(patch.url, operatorAllow);
    if (patch.name !== undefined) next.name = patch.name;
    if (patch.description !== undefined) next.description = patch.description;
    if (patch.eventTypes !== undefined)
      next.eventTypes = [...field('eventTypes', () => validateEventTypeFilters(patch.eventTypes ?? []))];
    if (patch.objectTypes !== undefined)
      next.objectTypes = [...field('objectTypes', () => validateObjectTypeFilters(patch.objectTypes ?? []))];
    if (patch.headers !== undefined)
      next.headers = sealEndpointHeaders(secrets, checkHeaders(patch.headers), base.headers);
    if (patch.rateLimitPerSecond !== undefined) next.rateLimitPerSecond = patch.rateLimitPerSecond;
    if (patch.maxConcurrency !== undefined) next.maxConcurrency = patch.maxConcurrency;
    if (patch.timeoutMs !== undefined) next.timeoutMs = patch.timeoutMs;
    if (patch.signatureScheme !== undefined) next.signatureScheme = patch.signatureScheme;
    if (patch.signatureHeader !== undefined) {
      next.signatureHeader =
        patch.signatureHeader === null
          ? null
          : checkSignatureHeader(
              field('signatureHeader', () => validateSignatureHeaderName(patch.signatureHeader as string)),
            );
    }
    if (next.signatureScheme === 'standard-webhooks+hmac-sha256-hex')
      next.signatureHeader ??= DEFAULT_SIGNATURE_HEADER;
    else next.signatureHeader = null;
    if (patch.enabled !== undefined) next.enabled = patch.enabled;
    return next;
  }

  async function get(projectId: ProjectId, id: string): Promise<EndpointRecord> {
    const endpoint = await store.getEndpoint(projectId, id as EndpointId);
    if (!endpoint) throw notFound(`endpoint ${id}`);
    return endpoint;
  }

  /** Health back to a clean `active` (the operator says the receiver is fixed). */
  async function resetHealth(id: EndpointId): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const h = await store.getEndpointHealth(id);
      if (!h) return;
      const nowMs = clock.nowMs();
      const t = nextHealth(
        {
          state: h.state,
          consecutiveFailures: h.consecutiveFailures,
          firstFailureAtMs: h.firstFailureAtMs ?? undefined,
          failedSinceSuccess: h.failedSinceSuccess,
          lastSuccessAtMs: h.lastSuccessAtMs ?? undefined,
        },
        { type: 'manual_enable', atMs: nowMs },
        healthPolicy,
      );
      const ok = await store.compareAndSetEndpointHealth(id, h.version, {
        state: t.health.state,
        consecutiveFailures: t.health.consecutiveFailures,
        firstFailureAtMs: t.health.firstFailureAtMs ?? null,
        failedSinceSuccess: t.health.failedSinceSuccess,
        lastSuccessAtMs: t.health.lastSuccessAtMs ?? null,
        changedAtMs: t.changed ? nowMs : h.changedAtMs,
        reason: t.changed ? (t.reason ?? null) : h.reason,
      });
      if (ok) return;
    }
    throw new HookyardError('conflict', 'The endpoint health kept changing; try again.');
  }

  return {
    get,

    async create(
      projectId: ProjectId,
      input: EndpointInput,
    ): Promise<{ endpoint: EndpointRecord; secret: string; warnings: string[] }> {
      const nowMs = clock.nowMs();
      const entries = field('secret', () => firstEndpointSecret(input.secret));
      const userId = input.userId ?? null;
      if (
        userId !== null &&
        (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_ENDPOINT_USER_ID_CHARS)
      ) {
        throw invalid(`userId must be a string of 1 to ${MAX_ENDPOINT_USER_ID_CHARS} characters, or null.`);
      }
      const base: EndpointRecord = {
        id: newId('endpoint', nowMs),
        projectId,
        userId,
        url: '',
        name: '',
        description: '',
        eventTypes: [],
        objectTypes: [],
        headers: {},
        rateLimitPerSecond: null,
        maxConcurrency: null,
        timeoutMs: DEFAULT_TIMEOUT_MS,
        signatureScheme: 'standard-webhooks',
        signatureHeader: null,
        secretsSealed: sealEndpointSecrets(secrets, entries),
        enabled: true,
        health: { ...NEW_ENDPOINT_HEALTH },
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      };
      const { secret: _secret, userId: _userId, ...patch } = input;
      const endpoint = apply(base, patch);
      const warnings = await checkResolution(projectId, endpoint.url);
      await store.insertEndpoint(endpoint);
      return { endpoint, secret: entries[0]?.secret as string, warnings };
    },

    async update(projectId: ProjectId, id: string, patch: EndpointPatch): Promise<EndpointRecord> {
      const current = await get(projectId, id);
      const next = apply(current, patch);
      if (patch.url !== undefined) await checkResolution(projectId, next.url);
      next.updatedAtMs = Math.max(clock.nowMs(), current.updatedAtMs + 1);
      if (!(await store.updateEndpoint(next))) throw notFound(`endpoint ${id}`);
      // Switching an endpoint back on is enabling it: health starts clean.
      if (patch.enabled === true && (!current.enabled || current.health.state !== 'active')) {
        await resetHealth(current.id);
      }
      return get(projectId, id);
    },

    async remove(projectId: ProjectId, id: string): Promise<void> {
      if (!(await store.deleteEndpoint(projectId, id as EndpointId))) throw notFound(`endpoint ${id}`);
    },

    /** A new current secret; the live ones keep signing for `graceMs` (default 24 h). */
    async rotateSecret(
      projectId: ProjectId,
      id: string,
      options: { secret?: string; graceMs?: number },
    ): Promise<{ secret: string; previousSecretsNotAfterMs: number[] }> {
      const current = await get(projectId, id);
      const nowMs = clock.nowMs();
      const next = options.secret ?? generateEndpointSecret();
      const entries = field('secret', () =>
        rotateEndpointSecrets(
          openEndpointSecrets(secrets, current.secretsSealed),
          next,
          nowMs,
          options.graceMs ?? DEFAULT_ROTATION_GRACE_MS,
        ),
      );
      const updated: EndpointRecord = {
        ...current,
        secretsSealed: sealEndpointSecrets(secrets, entries),
        updatedAtMs: Math.max(nowMs, current.updatedAtMs + 1),
      };
      if (!(await store.updateEndpoint(updated))) throw notFound(`endpoint ${id}`);
      return {
        secret: next,
        previousSecretsNotAfterMs: liveEndpointSecrets(entries, nowMs)
          .slice(1)
          .map((e) => e.notAfterMs as number),
      };
    },

    /** Switches the endpoint on and clears its health (disabled or failing → active). */
    async enable(projectId: ProjectId, id: string): Promise<EndpointRecord> {
      const current = await get(projectId, id);
      if (!current.enabled) {
        const updated = {
          ...current,
          enabled: true,
          updatedAtMs: Math.max(clock.nowMs(), current.updatedAtMs + 1),
        };
        if (!(await store.updateEndpoint(updated))) throw notFound(`endpoint ${id}`);
      }
      await resetHealth(current.id);
      return get(projectId, id);
    },

    /**
     * Sets the project's delivery settings. `replace` (PUT) resets omitted fields to their
     * defaults; otherwise (PATCH) omitted fields keep their stored values. An egress list must lie
     * inside the operator's: a project can only narrow egress, never widen it.
     */
    async setDeliverySettings(
      projectId: ProjectId,
      input: DeliverySettingsInput,
      mode: 'replace' | 'merge',
    ): Promise<DeliverySettingsRecord> {
      const current = mode === 'merge' ? await store.getDeliverySettings(projectId) : null;
      const retryDelaysMs =
        input.retryScheduleMs !== undefined ? input.retryScheduleMs : (current?.retryDelaysMs ?? null);
      const egressAllow =
        input.egressAllow !== undefined ? input.egressAllow : (current?.egressAllow ?? null);
      if (input.retryScheduleMs != null)
        field('retryScheduleMs', () => createRetrySchedule(input.retryScheduleMs ?? []));
      if (input.egressAllow != null) {
        const wanted = field('egressAllow', () => parseEgressAllowList(input.egressAllow ?? []));
        const outside = egressEntriesOutside(operatorAllow, wanted);
        if (outside.length > 0) {
          throw invalid(
            `egressAllow: ${outside.map((c) => c.text).join(', ')} ${outside.length === 1 ? 'is' : 'are'} not inside the operator's egress allow list (HOOKYARD_EGRESS_ALLOW${
              operatorAllow.length === 0 ? ', which is empty' : ''
            }); a project's list may only narrow it. Ask the operator to allow the block, or give blocks inside it.`,
          );
        }
      }
      const settings: DeliverySettingsRecord = {
        projectId,
        retryDelaysMs,
        egressAllow,
        updatedAtMs: clock.nowMs(),
      };
      await store.putDeliverySettings(settings);
      return settings;
    },

    /** Re-queues every failed delivery to the endpoint since `sinceMs`. */
    async recover(projectId: ProjectId, id: string, sinceMs: number): Promise<number> {
      const current = await get(projectId, id);
      if (!current.enabled || current.health.state === 'disabled') {
        throw new HookyardError(
          'conflict',
          `endpoint ${id} is disabled; enable it (POST …/endpoints/${id}/enable) before recovering its deliveries.`,
        );
      }
      const queued = await store.recoverEndpoint(projectId, current.id, sinceMs, clock.nowMs());
      if (queued > 0) wakeDeliveryWorkers(store);
      return queued;
    },
  };
}

export type EndpointService = ReturnType<typeof createEndpointService>;
