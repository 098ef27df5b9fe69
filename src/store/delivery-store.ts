/**
 * The outbound part of the storage port: endpoints, event types, messages, deliveries and
 * attempts (DESIGN.md's chain message → delivery → attempt), plus per-project delivery settings.
 *
 * The deliveries table is the queue: a delivery is `pending` until it `succeeded` or `failed`.
 * A worker claims due pending deliveries by pushing their `nextAttemptAtMs` one lease ahead; a
 * process that dies mid-attempt leaves the row pending, so it is claimed again when the lease
 * runs out (at-least-once).
 */
import type { EndpointHealthState, HealthChangeReason } from '../domain/endpoint-health.ts';
import type { AttemptId, DeliveryId, EndpointId, MessageId, ProjectId } from '../domain/ids.ts';
import type { DeliveryErrorKind } from '../domain/retry-policy.ts';
import type { Page } from './page.ts';

export const SIGNATURE_SCHEMES = ['standard-webhooks', 'standard-webhooks+hmac-sha256-hex'] as const;
/** Standard Webhooks headers always; the second adds a plain hex HMAC of the body in `signatureHeader`. */
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

/** An endpoint's health as stored: the state machine's fields plus when and why it last changed. */
export interface EndpointHealthRecord {
  state: EndpointHealthState;
  consecutiveFailures: number;
  firstFailureAtMs: number | null;
  failedSinceSuccess: number;
  lastSuccessAtMs: number | null;
  changedAtMs: number | null;
  reason: HealthChangeReason | null;
  /** Bumped by every write; compare-and-set uses it so concurrent workers never lose an update. */
  version: number;
}

/** A new endpoint's health: active, nothing failed or succeeded yet, never changed. */
export const NEW_ENDPOINT_HEALTH: Readonly<EndpointHealthRecord> = Object.freeze({
  state: 'active',
  consecutiveFailures: 0,
  firstFailureAtMs: null,
  failedSinceSuccess: 0,
  lastSuccessAtMs: null,
  changedAtMs: null,
  reason: null,
  version: 0,
});

export interface EndpointRecord {
  id: EndpointId;
  projectId: ProjectId;
  /** The user of the project it belongs to (gets only that user's messages); null = project-wide. */
  userId: string | null;
  url: string;
  name: string;
  description: string;
  /** Empty = every event type. */
  eventTypes: string[];
  /** Empty = every object type. */
  objectTypes: string[];
  /** Extra request headers sent with every delivery. */
  headers: Record<string, string>;
  rateLimitPerSecond: number | null;
  maxConcurrency: number | null;
  timeoutMs: number;
  signatureScheme: SignatureScheme;
  /** Header carrying the plain hex HMAC (only with the `+hmac-sha256-hex` scheme). */
  signatureHeader: string | null;
  /** Sealed JSON list of `{ secret, notAfterMs }`, current secret first; never returned by the API. */
  secretsSealed: string;
  /** The project's switch; a disabled endpoint (switch or health) gets no attempts. */
  enabled: boolean;
  health: EndpointHealthRecord;
  createdAtMs: number;
  /** Changes with the configuration (not with health): signer caches key on (id, updatedAtMs). */
  updatedAtMs: number;
}

/** What the publisher needs to decide which endpoints get a message (and to hand it to a local worker). */
export interface EndpointRoute {
  id: EndpointId;
  /** The endpoint's user: it gets messages published for that user only. null = project-wide. */
  userId: string | null;
  eventTypes: string[];
  objectTypes: string[];
  /** enabled and not disabled by health */
  active: boolean;
  updatedAtMs: number;
  healthState: EndpointHealthState;
  consecutiveFailures: number;
  /** The endpoint has a maxConcurrency or rateLimitPerSecond of its own (see holdEndpointLeases). */
  limited: boolean;
  /** The project's delivery settings (the same on every route of a project); null = defaults. */
  retryDelaysMs: number[] | null;
  egressAllow: string[] | null;
}

export interface EventTypeRecord {
  projectId: ProjectId;
  name: string;
  description: string;
  /** An example payload (JSON) for docs and the dashboard; null when none was given. */
  example: unknown;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface MessageRecord {
  id: MessageId;
  projectId: ProjectId;
  eventType: string;
  objectType: string | null;
  credentialId: string | null;
  userId: string | null;
  orderingKey: string | null;
  idempotencyKey: string | null;
  /** The envelope exactly as it is sent (JSON text), so every attempt signs the same bytes. */
  body: string;
  createdAtMs: number;
}

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Why a delivery ended or last failed: an attempt's error kind, or no attempt was made. */
export type DeliveryFailureKind = DeliveryErrorKind | 'endpoint_disabled' | 'http_status';

export interface DeliveryRecord {
  id: DeliveryId;
  projectId: ProjectId;
  messageId: MessageId;
  endpointId: EndpointId;
  orderingKey: string | null;
  status: DeliveryStatus;
  /** Attempts made, all time (attempt numbers continue across resends). */
  attemptCount: number;
  /** Attempts since the delivery was queued (or re-queued): the position in the retry schedule. */
  schedulePosition: number;
  nextAttemptAtMs: number;
  lastAttemptAtMs: number | null;
  lastStatusCode: number | null;
  lastFailureKind: DeliveryFailureKind | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface AttemptRecord {
  id: AttemptId;
  projectId: ProjectId;
  deliveryId: DeliveryId;
  messageId: MessageId;
  endpointId: EndpointId;
  attemptNumber: number;
  startedAtMs: number;
  durationMs: number;
  outcome: 'succeeded' | 'failed';
  statusCode: number | null;
  errorKind: DeliveryErrorKind | null;
  errorMessage: string | null;
  responseHeaders: Record<string, string>;
  /** The first 4 KiB of the response body. */
  responseBody: string;
  responseBodyTruncated: boolean;
  /** When the retry this attempt scheduled is due; null when none was. */
  nextAttemptAtMs: number | null;
}

export interface DeliveryWithAttempts extends DeliveryRecord {
  attempts: AttemptRecord[];
}

/** One message to store with its deliveries, in one transaction with the rest of its batch. */
export interface NewMessage {
  message: MessageRecord;
  deliveries: ReadonlyArray<{
    id: DeliveryId;
    endpointId: EndpointId;
    /** 'pending' for active endpoints; 'failed' (endpoint_disabled) for disabled ones, so recover can replay them. */
    status: 'pending' | 'failed';
    /** Stored already claimed until then: the publishing process hands it to its own worker. */
    leasedUntilMs?: number;
  }>;
  /** With an idempotency key: an earlier message with the key created at or after this time wins. */
  idempotencyNotBeforeMs?: number;
}

export interface ClaimOptions {
  limit: number;
  nowMs: number;
  /** How long the claim holds; after it the delivery is due again (the claimer is presumed dead). */
  leaseMs: number;
  /** At most this many per endpoint (so one endpoint's backlog does not fill the batch). */
  perEndpointLimit?: number;
  /** Tighter limits for some endpoints (what the worker's lane for them can still take). */
  endpointLimits?: Readonly<Record<string, number>>;
  /**
   * At most this many for these projects (what the worker can still take for each); a project
   * not named is bounded by `limit` alone. A delivery over its endpoint's cap does not count.
   */
  projectLimits?: Readonly<Record<string, number>>;
  /** Endpoints and projects whose work this worker cannot take now (saturated), skipped. */
  excludeEndpointIds?: readonly EndpointId[];
  excludeProjectIds?: readonly ProjectId[];
  /**
   * 'wide' (the default): when a per-endpoint cap could bind, the claim looks at several times
   * `limit` of the oldest due rows, so other endpoints' work behind a capped endpoint's is found.
   * 'narrow' looks at `limit` rows only: for a caller that knows the due work is one endpoint's
   * (PostgreSQL locks every row it looks at).
   */
  candidateWindow?: 'wide' | 'narrow';
  /**
   * The claiming worker's lease-holder id (see holdEndpointLeases): endpoints whose lease another
   * holder has are skipped. Without it, leases are not looked at.
   */
  leaseHolder?: string;
}

/** A claimed delivery with what sending it needs, minus the endpoint's (cached) configuration. */
export interface ClaimedDelivery {
  id: DeliveryId;
  projectId: ProjectId;
  messageId: MessageId;
  endpointId: EndpointId;
  orderingKey: string | null;
  attemptCount: number;
  schedulePosition: number;
  body: string;
  credentialId: string | null;
  userId: string | null;
  /** null when the endpoint was deleted after the message was published. */
  endpoint: {
    updatedAtMs: number;
    enabled: boolean;
    healthState: EndpointHealthState;
    consecutiveFailures: number;
  } | null;
  /** The project's retry schedule and egress allow list; null = the defaults. */
  retryDelaysMs: number[] | null;
  egressAllow: string[] | null;
}

/** The outcome of one claimed delivery, written in a batch with others. */
export interface DeliveryCompletion {
  deliveryId: DeliveryId;
  status: DeliveryStatus;
  /** For a pending outcome: when the retry is due. */
  nextAttemptAtMs: number;
  updatedAtMs: number;
  lastFailureKind: DeliveryFailureKind | null;
  /** The HTTP attempt, when one was made (a delivery to a disabled endpoint fails without one). */
  attempt: AttemptRecord | null;
}

export interface DeliverySettingsRecord {
  projectId: ProjectId;
  /** null = the default schedule. */
  retryDelaysMs: number[] | null;
  /** null = the operator's list; otherwise narrowed to its intersection with it. */
  egressAllow: string[] | null;
  updatedAtMs: number;
}

export interface MessageFilter {
  eventType?: string;
  credentialId?: string;
}

export interface DeliveryStore {
  insertEndpoint(endpoint: EndpointRecord): Promise<void>;
  getEndpoint(projectId: ProjectId, id: EndpointId): Promise<EndpointRecord | null>;
  /** Unscoped, for the worker (which knows the id from a claimed delivery). */
  getEndpointForDelivery(id: EndpointId): Promise<EndpointRecord | null>;
  /** In id order; `filter.userId` narrows to that user's endpoints, `null` to the project-wide ones. */
  listEndpoints(
    projectId: ProjectId,
    page: { limit: number; after?: string },
    filter?: { userId?: string | null },
  ): Promise<Page<EndpointRecord>>;
  listEndpointRoutes(projectId: ProjectId): Promise<EndpointRoute[]>;
  /** Replaces configuration, switch and secrets (not health); false when not in that project. */
  updateEndpoint(endpoint: EndpointRecord): Promise<boolean>;
  /** Deletes the endpoint with its deliveries and their attempts. */
  deleteEndpoint(projectId: ProjectId, id: EndpointId): Promise<boolean>;
  getEndpointHealth(id: EndpointId): Promise<EndpointHealthRecord | null>;
  /**
   * Writes `next` (with version `expectedVersion + 1`) only if the stored version is still
   * `expectedVersion`; false when another writer got there first (read again and retry).
   */
  compareAndSetEndpointHealth(
    id: EndpointId,
    expectedVersion: number,
    next: Omit<EndpointHealthRecord, 'version'>,
  ): Promise<boolean>;
  /** Fails the endpoint's pending deliveries without an attempt (it was disabled); returns how many. */
  failPendingDeliveries(endpointId: EndpointId, nowMs: number): Promise<number>;

  /** Registers the event type, or replaces its description and example. */
  upsertEventType(eventType: EventTypeRecord): Promise<EventTypeRecord>;
  getEventType(projectId: ProjectId, name: string): Promise<EventTypeRecord | null>;
  listEventTypes(projectId: ProjectId): Promise<EventTypeRecord[]>;

  /**
   * Stores messages with their deliveries in ONE transaction (group commit). A message whose
   * idempotency key was used by a message since `idempotencyNotBeforeMs` is not stored: its result
   * names the earlier message, `duplicate: true`. The database decides, also across processes.
   */
  insertMessages(batch: readonly NewMessage[]): Promise<Array<{ id: MessageId; duplicate: boolean }>>;
  getMessage(projectId: ProjectId, id: MessageId): Promise<MessageRecord | null>;
  /** Newest first. */
  listMessages(
    projectId: ProjectId,
    filter: MessageFilter,
    page: { limit: number; after?: string },
  ): Promise<Page<MessageRecord>>;
  listMessageDeliveries(projectId: ProjectId, messageId: MessageId): Promise<DeliveryWithAttempts[]>;
  getDelivery(projectId: ProjectId, id: DeliveryId): Promise<DeliveryRecord | null>;
  /**
   * Queues the message again: every finished delivery of it, or only the one to `endpointId`
   * (created when the message never had one there). Deliveries still pending are left alone.
   * Returns the ids queued.
   */
  resendMessage(
    projectId: ProjectId,
    messageId: MessageId,
    nowMs: number,
    target?: { endpointId: EndpointId; newDeliveryId: DeliveryId },
  ): Promise<DeliveryId[]>;
  /** Re-queues the endpoint's failed deliveries created at or after `sinceMs`; returns how many. */
  recoverEndpoint(
    projectId: ProjectId,
    endpointId: EndpointId,
    sinceMs: number,
    nowMs: number,
  ): Promise<number>;

  /**
   * Claims due pending deliveries (oldest due first; at most `perEndpointLimit` per endpoint; with
   * an ordering key only the earliest pending one per endpoint and key). `FOR UPDATE SKIP LOCKED`
   * on PostgreSQL.
   */
  claimDueDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Gives claimed deliveries back unattempted, due at `nextAttemptAtMs`. */
  releaseDeliveries(ids: readonly DeliveryId[], nextAttemptAtMs: number): Promise<void>;
  /** Records outcomes (attempts and delivery states) in one transaction. */
  completeDeliveries(completions: readonly DeliveryCompletion[]): Promise<void>;

  /**
   * Endpoint leases (one sending worker at a time for an endpoint with its own limits): takes or
   * extends the lease of each endpoint that is free, expired or already `holder`'s, until
   * `leaseMs` from now on the database's clock, and returns the ids `holder` now holds. The
   * database decides, so of several holders asking at once exactly one gets each endpoint.
   */
  holdEndpointLeases(
    holder: string,
    endpointIds: readonly EndpointId[],
    leaseMs: number,
  ): Promise<EndpointId[]>;
  /** Gives up `holder`'s leases on these endpoints (others' are left alone). */
  releaseEndpointLeases(holder: string, endpointIds: readonly EndpointId[]): Promise<void>;

  getDeliverySettings(projectId: ProjectId): Promise<DeliverySettingsRecord | null>;
  putDeliverySettings(settings: DeliverySettingsRecord): Promise<void>;
}
