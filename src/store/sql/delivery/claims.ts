import type { EndpointHealthState } from '../../../domain/endpoint-health.ts';
import type { DeliveryId, EndpointId, MessageId, ProjectId } from '../../../domain/ids.ts';
import type { ClaimedDelivery, DeliveryStore } from '../../delivery-store.ts';
import type { SqlValue } from '../sql-executor.ts';
import { paddedIn } from '../sql-lists.ts';

/**
 * Claims: which due deliveries a worker may take (the filter, written once for both dialects),
 * and what a claim returns. How the rows are picked and leased is the dialect's (ClaimRunner):
 * PostgreSQL in one statement, SQLite in one transaction on its writer thread.
 */

export interface ClaimRow {
  id: string;
  project_id: string;
  message_id: string;
  endpoint_id: string;
  ordering_key: string | null;
  attempt_count: number;
  schedule_position: number;
  seq: number;
  body: string;
  credential_id: string | null;
  user_id: string | null;
  endpoint_updated_at_ms: number | null;
  enabled: number | null;
  health_state: string | null;
  consecutive_failures: number | null;
  retry_delays_ms: string | null;
  egress_allow: string | null;
}

function toClaimed(r: ClaimRow): ClaimedDelivery {
  return {
    id: r.id as DeliveryId,
    projectId: r.project_id as ProjectId,
    messageId: r.message_id as MessageId,
    endpointId: r.endpoint_id as EndpointId,
    orderingKey: r.ordering_key,
    attemptCount: Number(r.attempt_count),
    schedulePosition: Number(r.schedule_position),
    body: r.body,
    credentialId: r.credential_id,
    userId: r.user_id,
    endpoint:
      r.endpoint_updated_at_ms === null
        ? null
        : {
            updatedAtMs: Number(r.endpoint_updated_at_ms),
            enabled: Number(r.enabled) === 1,
            healthState: r.health_state as EndpointHealthState,
            consecutiveFailures: Number(r.consecutive_failures),
          },
    retryDelaysMs: r.retry_delays_ms === null ? null : (JSON.parse(r.retry_delays_ms) as number[]),
    egressAllow: r.egress_allow === null ? null : (JSON.parse(r.egress_allow) as string[]),
  };
}

/** With a per-endpoint cap, claims look at this many times `limit` of the oldest due rows. */
const CANDIDATE_FACTOR = 4;

/** What CLAIM_SELECT reads of a claimed row (named, not `*`, so the claim can be prepared). */
export const CLAIMED_COLUMNS = [
  'id',
  'project_id',
  'message_id',
  'endpoint_id',
  'ordering_key',
  'attempt_count',
  'schedule_position',
  'seq',
]
  .map((c) => `deliveries.${c}`)
  .join(', ');
export const CLAIM_SELECT = `SELECT d.id, d.project_id, d.message_id, d.endpoint_id, d.ordering_key, d.attempt_count, d.schedule_position, d.seq,
  m.body, m.credential_id, m.user_id,
  e.updated_at_ms AS endpoint_updated_at_ms, e.enabled, e.health_state, e.consecutive_failures,
  s.retry_delays_ms, s.egress_allow`;
export const CLAIM_JOINS = `JOIN messages m ON m.id = d.message_id
  LEFT JOIN endpoints e ON e.id = d.endpoint_id
  LEFT JOIN delivery_settings s ON s.project_id = d.project_id`;
// With an ordering key, only the earliest pending delivery per (endpoint, key) may go: a claimed
// one stays pending until it finishes, so the next waits for it (one at a time, in publish order).
const FIFO_GUARD = `(d.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries p
  WHERE p.endpoint_id = d.endpoint_id AND p.ordering_key = d.ordering_key AND p.status = 'pending' AND p.seq < d.seq))`;

/**
 * A claim's filter on leases: skip endpoints another holder (the one parameter) holds now.
 * `nowMsSql` is the database's clock in epoch ms (leases are compared on one clock).
 */
function leaseGuard(nowMsSql: string): string {
  return `NOT EXISTS (SELECT 1 FROM endpoint_leases l
    WHERE l.endpoint_id = d.endpoint_id AND l.holder <> ? AND l.until_ms > ${nowMsSql})`;
}

/**
 * Which due deliveries a claim may take (both dialects): pending and due, not of an excluded
 * endpoint or project, first of their ordering key, and (with a lease holder) of an endpoint no
 * other process holds. The marks are paddedIn's; `nowMsSql` is the database's clock in epoch ms.
 */
export function claimFilter(
  nowMsSql: string,
  endpointMarks: string,
  projectMarks: string,
  leased: boolean,
): string {
  return `d.status = 'pending' AND d.next_attempt_at_ms <= ? AND (d.leased_until_ms IS NULL OR d.leased_until_ms <= ?)
        AND d.endpoint_id NOT IN (${endpointMarks}) AND d.project_id NOT IN (${projectMarks})
        AND ${FIFO_GUARD}${leased ? ` AND ${leaseGuard(nowMsSql)}` : ''}`;
}

/** A claim as decided here, for the dialect to run (the filter is claimFilter's SQL). */
export interface ClaimPlan {
  filter: string;
  filterParams: SqlValue[];
  /** How many of the oldest due rows the claim looks at. */
  candidates: number;
  limit: number;
  perEndpointLimit: number;
  endpointLimits: Record<string, number>;
  projectLimits: Record<string, number>;
  leasedUntilMs: number;
}

/** How a dialect picks, leases and returns a claim's rows, and gives claimed rows back. */
export interface ClaimRunner {
  claimDue(plan: ClaimPlan): Promise<ClaimRow[]>;
  /** `ids` is never empty. */
  releaseDeliveries(ids: readonly DeliveryId[], nextAttemptAtMs: number): Promise<unknown>;
}

export type ClaimQueries = Pick<DeliveryStore, 'claimDueDeliveries' | 'releaseDeliveries'>;

export function createClaimQueries(runner: ClaimRunner, nowMsSql: string): ClaimQueries {
  return {
    async claimDueDeliveries({
      limit,
      nowMs,
      leaseMs,
      perEndpointLimit = limit,
      endpointLimits = {},
      projectLimits = {},
      excludeEndpointIds = [],
      excludeProjectIds = [],
      candidateWindow = 'wide',
      leaseHolder,
    }) {
      const endpoints = paddedIn(excludeEndpointIds);
      const projects = paddedIn(excludeProjectIds);
      const filter = claimFilter(nowMsSql, endpoints.marks, projects.marks, leaseHolder !== undefined);
      const filterParams = [
        nowMs,
        nowMs,
        ...endpoints.params,
        ...projects.params,
        ...(leaseHolder === undefined ? [] : [leaseHolder]),
      ];
      // Candidates are a bounded window of the oldest due rows; the per-endpoint cap picks from them.
      const capped =
        perEndpointLimit < limit ||
        Object.keys(endpointLimits).length > 0 ||
        Object.keys(projectLimits).length > 0;
      const candidates = capped && candidateWindow === 'wide' ? limit * CANDIDATE_FACTOR : limit;
      const rows = await runner.claimDue({
        filter,
        filterParams,
        candidates,
        limit,
        perEndpointLimit,
        endpointLimits,
        projectLimits,
        leasedUntilMs: nowMs + leaseMs,
      });
      return rows.map(toClaimed);
    },
    async releaseDeliveries(ids, nextAttemptAtMs) {
      if (ids.length === 0) return;
      await runner.releaseDeliveries(ids, nextAttemptAtMs);
    },
  };
}
