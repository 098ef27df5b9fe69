/**
 * What the console and the developer CLI read beyond the area stores: inbound requests refused
 * before storage, the live stream's reads by cursor, stream tickets, attempts and deliveries by
 * filter, and the overview's counts over time (each one query, bucketed by the database).
 */
import type { EndpointId, EventId, ProjectId, SourceId } from '../domain/ids.ts';
import type { AttemptRecord, DeliveryRecord, DeliveryStatus } from './delivery-store.ts';
import type { InboundEventStatus } from './inbound-store.ts';
import type { Page } from './page.ts';

/** Why an inbound request was refused before it was stored. */
export const REFUSAL_REASON_CODES = [
  'signature_invalid',
  'unknown_source',
  'payload_too_large',
  'handshake_failed',
  'invalid_json',
  'invalid_credential_id',
  /** A summary row: this many refusals were not recorded because the write buffer was full. */
  'not_recorded',
] as const;
export type RefusalReasonCode = (typeof REFUSAL_REASON_CODES)[number];

export interface RefusedRequestRecord {
  /** `rfq_…`, time-ordered. */
  id: string;
  /** null when the source does not exist. */
  projectId: ProjectId | null;
  sourceId: string;
  reasonCode: RefusalReasonCode;
  reason: string;
  /** The HTTP status the request was answered with. */
  status: number;
  method: string;
  /** The path only: a query string may carry a credential. */
  path: string;
  /** A few request headers that help tell senders apart (content-type, user-agent…); never credentials. */
  metadata: Record<string, string>;
  remoteAddress: string | null;
  bodyBytes: number;
  /** The body's SHA-256 (hex) when it was read; null when it was refused before reading. */
  bodySha256: string | null;
  /** 1, or for a `not_recorded` row how many refusals it stands for. */
  count: number;
  receivedAtMs: number;
}

/** An inbound event as the live stream shows it (no headers, no body). */
export interface StreamEventRecord {
  id: EventId;
  sourceId: SourceId;
  eventType: string | null;
  providerEventId: string | null;
  status: InboundEventStatus;
  tenantId: string | null;
  credentialId: string | null;
  method: string;
  bodyBytes: number;
  receivedAtMs: number;
}

export interface AttemptFilter {
  outcome?: 'succeeded' | 'failed';
  startedFromMs?: number;
  startedToMs?: number;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  endpointId?: EndpointId;
}

/** One bucket of the overview; a bucket with nothing in it is not returned. */
export interface CountBucket {
  startMs: number;
  count: number;
}

export interface DeliveryBucket {
  startMs: number;
  delivered: number;
  failed: number;
  /** Publish to success, of the deliveries that succeeded; null when none did. */
  latencyP50Ms: number | null;
  latencyP90Ms: number | null;
  latencyP99Ms: number | null;
}

export interface BucketRange {
  fromMs: number;
  toMs: number;
  bucketMs: number;
}

export interface ConsoleStore {
  insertRefusedRequests(rows: readonly RefusedRequestRecord[]): Promise<void>;
  /** Newest first; `projectId` null lists refusals of sources that do not exist. */
  listRefusedRequests(
    projectId: ProjectId | null,
    sourceId: string,
    page: { limit: number; after?: string },
  ): Promise<Page<RefusedRequestRecord>>;
  /**
   * Deletes refusals older than `olderThanMs`, each named source's beyond its newest
   * `keepPerSource`, and those of unknown sources beyond their newest `keepPerSource` together.
   */
  pruneRefusedRequests(options: {
    olderThanMs: number;
    keepPerSource: number;
    sourceIds: readonly string[];
  }): Promise<number>;

  /** A project's inbound events with ids above `afterId`, oldest first (the live stream's read). */
  listStreamEvents(
    projectId: ProjectId,
    options: { afterId: string; sourceId?: SourceId; limit: number },
  ): Promise<StreamEventRecord[]>;
  /** A project's refusals with ids above `afterId`, oldest first. */
  listStreamRefusals(
    projectId: ProjectId,
    options: { afterId: string; sourceId?: SourceId; limit: number },
  ): Promise<RefusedRequestRecord[]>;

  insertStreamTicket(ticketHash: string, projectId: ProjectId, expiresAtMs: number): Promise<void>;
  /** Takes the ticket (it cannot be used again); its project, or null when unknown or expired. */
  takeStreamTicket(ticketHash: string, nowMs: number): Promise<ProjectId | null>;

  /** The endpoint's attempts, newest first; the cursor is an attempt id. */
  listEndpointAttempts(
    projectId: ProjectId,
    endpointId: EndpointId,
    filter: AttemptFilter,
    page: { limit: number; after?: string },
  ): Promise<Page<AttemptRecord>>;
  /** A project's deliveries, newest first. */
  listDeliveries(
    projectId: ProjectId,
    filter: DeliveryFilter,
    page: { limit: number; after?: string },
  ): Promise<Page<DeliveryRecord>>;

  /** Inbound events stored per bucket (by time received). */
  countInboundEvents(projectId: ProjectId, range: BucketRange): Promise<CountBucket[]>;
  /** Refused requests per bucket. */
  countRefusedRequests(projectId: ProjectId, range: BucketRange): Promise<CountBucket[]>;
  /** Deliveries per bucket (by time published): succeeded, failed, and latency percentiles. */
  deliveryStats(projectId: ProjectId, range: BucketRange): Promise<DeliveryBucket[]>;
}
