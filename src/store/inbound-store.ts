/** The inbound part of the storage port: sources, inbound events (with their routing job), tenants. */
import type { EventId, ProjectId, SourceId, TenantId } from '../domain/ids.ts';
import type { Page } from './page.ts';

export interface SourceRecord {
  id: SourceId;
  projectId: ProjectId;
  name: string;
  provider: string | null;
  /** Validated by the ingest layer; opaque JSON to the store. */
  settings: Record<string, unknown>;
  /** Sealed JSON list of { value, notAfterMs }. */
  secretsSealed: string | null;
  publicKey: string | null;
  handshakeStateSealed: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export type InboundEventStatus = 'received' | 'routed' | 'unrouted';
export const INBOUND_EVENT_STATUSES: readonly InboundEventStatus[] = ['received', 'routed', 'unrouted'];

/**
 * PostgreSQL writes inbound events in multi-row INSERTs of at most this many rows, each a prepared
 * statement; a batch of at most this many commits in one statement, without BEGIN and COMMIT. The
 * group committer keeps PostgreSQL's batches to this size and runs two side by side.
 */
export const PG_EVENT_STATEMENT_ROWS = 16;

export interface NewInboundEvent {
  id: EventId;
  projectId: ProjectId;
  sourceId: SourceId;
  dedupeKey: string;
  providerEventId: string | null;
  eventType: string | null;
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /**
   * true parsed as JSON; false claimed JSON but did not parse; null not JSON; 'unchecked' claims
   * JSON and nothing needed it parsed: the store keeps it unchecked and checks when it is read.
   */
  jsonValid: boolean | null | 'unchecked';
  verification: { ok: boolean; detail: string };
  credentialId: string | null;
  /** The value app-level routing matches against a tenant's provider account id. */
  routingKey: string | null;
  receivedAtMs: number;
  /**
   * Set when ingest could decide the route and no subscriber asked for the event (no app-level
   * routing): the event is stored routed and no routing job is created, unless the project has an
   * enabled endpoint when the event is inserted. That check is made by the insert itself, so an
   * endpoint committed by any process before the event arrives is seen (forwarding's interest lives
   * in the database, where a cache in this process would miss another process's endpoint).
   * Null: the router decides.
   */
  decided: { status: InboundEventStatus; tenantId: string | null } | null;
}

/** A stored event. Its body's hash is not stored: whoever shows it computes it from the body. */
/**
 * The state of an event's routing job: waiting (or leased by a router), done, or set aside after
 * MAX_ROUTING_ATTEMPTS failures (replayable through the API).
 */
export type RoutingJobStatus = 'pending' | 'done' | 'failed';
export const ROUTING_JOB_STATUSES: readonly RoutingJobStatus[] = ['pending', 'done', 'failed'];

export interface InboundEventRecord extends Omit<NewInboundEvent, 'decided' | 'jsonValid'> {
  /** true parsed as JSON; false claimed JSON but did not parse; null not JSON. */
  jsonValid: boolean | null;
  status: InboundEventStatus;
  tenantId: string | null;
  processStatus: RoutingJobStatus;
  /** Claims of its routing job so far. */
  processAttempts: number;
  /** Why its routing job last failed; null once it succeeds. */
  processError: string | null;
}

export type InboundEventSummary = Omit<InboundEventRecord, 'body' | 'headers'> & { bodyBytes: number };
/**
 * A claimed routing job: the event's summary without its JSON mark. An unchecked mark needs the body
 * (it is checked when read), and the router never reads it; the forwarder reads the whole event.
 */
export type PendingInboundEvent = Omit<InboundEventSummary, 'jsonValid'>;

export interface InboundEventFilter {
  sourceId?: SourceId;
  status?: InboundEventStatus;
  processStatus?: RoutingJobStatus;
  tenantId?: string;
  providerEventId?: string;
  receivedFromMs?: number;
  receivedToMs?: number;
}

export interface TenantRecord {
  id: TenantId;
  projectId: ProjectId;
  sourceId: SourceId;
  providerAccountId: string;
  userId: string | null;
  createdAtMs: number;
}

export interface InboundStore {
  insertSource(source: SourceRecord): Promise<void>;
  getSource(projectId: ProjectId, id: SourceId): Promise<SourceRecord | null>;
  /** Unscoped lookup for the ingest path, where the URL names only the source. */
  getSourceForIngest(id: SourceId): Promise<SourceRecord | null>;
  listSources(projectId: ProjectId, page: { limit: number; after?: string }): Promise<Page<SourceRecord>>;
  /** Replaces the mutable fields; false when the source does not exist in that project. */
  updateSource(source: SourceRecord): Promise<boolean>;
  deleteSource(projectId: ProjectId, id: SourceId): Promise<boolean>;

  /**
   * Inserts a batch in ONE transaction (group commit). Each result says whether that event was new
   * or a duplicate of (source, dedupe key), with the id of the stored event either way. The
   * database decides duplicates (unique key), also between concurrent batches and processes.
   * `bodiesMayMove`: the caller reads none of the bodies again, so a store may move their memory
   * to another thread instead of copying it (SQLite's writer thread); a moved Buffer is empty
   * afterwards. The ingest path says so; without it the bodies are left as they are.
   */
  insertInboundEvents(
    events: readonly NewInboundEvent[],
    options?: { bodiesMayMove?: boolean },
  ): Promise<Array<{ id: EventId; duplicate: boolean }>>;
  getInboundEvent(projectId: ProjectId, id: EventId): Promise<InboundEventRecord | null>;
  /** Newest first. */
  listInboundEvents(
    projectId: ProjectId,
    filter: InboundEventFilter,
    page: { limit: number; after?: string },
  ): Promise<Page<InboundEventSummary>>;
  /**
   * Claims due routing jobs, oldest first, as a lease: each is hidden for leaseMs and its attempts
   * counted, so a job whose router died comes back, and one that fails every time is counted until
   * it is set aside (failInboundEvents). On PostgreSQL the rows are locked with SKIP LOCKED, so
   * several processes share the work. The returned summaries carry the attempt count of this claim.
   */
  claimPendingInboundEvents(limit: number, nowMs: number, leaseMs: number): Promise<PendingInboundEvent[]>;
  /**
   * Records failed routing jobs with their error, in one transaction: retried from retryAtMs, or
   * set aside (status failed) when retryAtMs is null.
   */
  failInboundEvents(
    failures: ReadonlyArray<{ projectId: ProjectId; id: EventId; error: string; retryAtMs: number | null }>,
  ): Promise<void>;
  /** Puts a set-aside routing job back in the queue with its attempts reset; false when none was. */
  requeueFailedInboundEvent(projectId: ProjectId, id: EventId, nowMs: number): Promise<boolean>;
  /** Records routing decisions and ends those jobs, all in one transaction. */
  completeInboundEvents(
    outcomes: ReadonlyArray<{
      projectId: ProjectId;
      id: EventId;
      status: InboundEventStatus;
      tenantId: string | null;
    }>,
  ): Promise<void>;

  /** Creates the binding, or returns the existing one for (source, provider account id). */
  upsertTenant(tenant: TenantRecord): Promise<{ tenant: TenantRecord; created: boolean }>;
  findTenant(sourceId: SourceId, providerAccountId: string): Promise<TenantRecord | null>;
  listTenants(projectId: ProjectId, sourceId?: SourceId): Promise<TenantRecord[]>;
  deleteTenant(projectId: ProjectId, id: TenantId): Promise<boolean>;
  /** Puts the unrouted events waiting for this routing key back in the routing queue; returns how many. */
  requeueUnrouted(sourceId: SourceId, routingKey: string, nowMs: number): Promise<number>;
}
