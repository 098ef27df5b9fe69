import type { EndpointHealthState, HealthChangeReason } from '../../../domain/endpoint-health.ts';
import type { EndpointId, ProjectId } from '../../../domain/ids.ts';
import type {
  DeliveryStore,
  EndpointHealthRecord,
  EndpointRecord,
  SignatureScheme,
} from '../../delivery-store.ts';
import type { Db } from '../db.ts';
import type { SqlValue } from '../sql-executor.ts';
import { num, pageOf } from '../sql-lists.ts';

/** Endpoints: configuration, routes for the publisher, and health written by compare-and-set. */

interface EndpointRow {
  id: string;
  project_id: string;
  user_id: string | null;
  url: string;
  name: string;
  description: string;
  event_types: string;
  object_types: string;
  headers: string;
  rate_limit_per_second: number | null;
  max_concurrency: number | null;
  timeout_ms: number;
  signature_scheme: string;
  signature_header: string | null;
  secrets_sealed: string;
  enabled: number;
  health_state: string;
  consecutive_failures: number;
  first_failure_at_ms: number | null;
  failed_since_success: number;
  last_success_at_ms: number | null;
  health_changed_at_ms: number | null;
  health_reason: string | null;
  health_version: number;
  created_at_ms: number;
  updated_at_ms: number;
}

function toHealth(r: {
  health_state: string;
  consecutive_failures: number;
  first_failure_at_ms: number | null;
  failed_since_success: number;
  last_success_at_ms: number | null;
  health_changed_at_ms: number | null;
  health_reason: string | null;
  health_version: number;
}): EndpointHealthRecord {
  return {
    state: r.health_state as EndpointHealthState,
    consecutiveFailures: Number(r.consecutive_failures),
    firstFailureAtMs: num(r.first_failure_at_ms),
    failedSinceSuccess: Number(r.failed_since_success),
    lastSuccessAtMs: num(r.last_success_at_ms),
    changedAtMs: num(r.health_changed_at_ms),
    reason: r.health_reason as HealthChangeReason | null,
    version: Number(r.health_version),
  };
}

const toEndpoint = (r: EndpointRow): EndpointRecord => ({
  id: r.id as EndpointId,
  projectId: r.project_id as ProjectId,
  userId: r.user_id,
  url: r.url,
  name: r.name,
  description: r.description,
  eventTypes: JSON.parse(r.event_types) as string[],
  objectTypes: JSON.parse(r.object_types) as string[],
  headers: JSON.parse(r.headers) as Record<string, string>,
  rateLimitPerSecond: num(r.rate_limit_per_second),
  maxConcurrency: num(r.max_concurrency),
  timeoutMs: Number(r.timeout_ms),
  signatureScheme: r.signature_scheme as SignatureScheme,
  signatureHeader: r.signature_header,
  secretsSealed: r.secrets_sealed,
  enabled: Number(r.enabled) === 1,
  health: toHealth(r),
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});

const ENDPOINT_COLUMNS = [
  'url',
  'name',
  'description',
  'event_types',
  'object_types',
  'headers',
  'rate_limit_per_second',
  'max_concurrency',
  'timeout_ms',
  'signature_scheme',
  'signature_header',
  'secrets_sealed',
  'enabled',
  'updated_at_ms',
];

const endpointConfig = (e: EndpointRecord): SqlValue[] => [
  e.url,
  e.name,
  e.description,
  JSON.stringify(e.eventTypes),
  JSON.stringify(e.objectTypes),
  JSON.stringify(e.headers),
  e.rateLimitPerSecond,
  e.maxConcurrency,
  e.timeoutMs,
  e.signatureScheme,
  e.signatureHeader,
  e.secretsSealed,
  e.enabled ? 1 : 0,
  e.updatedAtMs,
];

const HEALTH_COLUMNS = [
  'health_state',
  'consecutive_failures',
  'first_failure_at_ms',
  'failed_since_success',
  'last_success_at_ms',
  'health_changed_at_ms',
  'health_reason',
];

const healthValues = (h: Omit<EndpointHealthRecord, 'version'>): SqlValue[] => [
  h.state,
  h.consecutiveFailures,
  h.firstFailureAtMs,
  h.failedSinceSuccess,
  h.lastSuccessAtMs,
  h.changedAtMs,
  h.reason,
];

export type EndpointQueries = Pick<
  DeliveryStore,
  | 'insertEndpoint'
  | 'getEndpoint'
  | 'getEndpointForDelivery'
  | 'listEndpoints'
  | 'listEndpointRoutes'
  | 'updateEndpoint'
  | 'deleteEndpoint'
  | 'getEndpointHealth'
  | 'compareAndSetEndpointHealth'
  | 'failPendingDeliveries'
>;

export function createEndpointQueries(db: Db): EndpointQueries {
  return {
    async insertEndpoint(e) {
      await db.run(
        `INSERT INTO endpoints (${ENDPOINT_COLUMNS.join(', ')}, ${HEALTH_COLUMNS.join(', ')}, health_version, id, project_id, user_id, created_at_ms) VALUES (${[...ENDPOINT_COLUMNS, ...HEALTH_COLUMNS, 'v', 'id', 'project_id', 'user_id', 'created_at_ms'].map(() => '?').join(', ')})`,
        [
          ...endpointConfig(e),
          ...healthValues(e.health),
          e.health.version,
          e.id,
          e.projectId,
          e.userId,
          e.createdAtMs,
        ],
      );
    },
    async getEndpoint(projectId, id) {
      const row = await db.get<EndpointRow>('SELECT * FROM endpoints WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ]);
      return row ? toEndpoint(row) : null;
    },
    async getEndpointForDelivery(id) {
      const row = await db.get<EndpointRow>('SELECT * FROM endpoints WHERE id = ?', [id]);
      return row ? toEndpoint(row) : null;
    },
    async listEndpoints(projectId, { limit, after }, filter = {}) {
      const byUser =
        filter.userId === undefined
          ? ''
          : filter.userId === null
            ? ' AND user_id IS NULL'
            : ' AND user_id = ?';
      const rows = await db.all<EndpointRow>(
        `SELECT * FROM endpoints WHERE project_id = ?${byUser} AND id > ? ORDER BY id LIMIT ?`,
        [projectId, ...(typeof filter.userId === 'string' ? [filter.userId] : []), after ?? '', limit + 1],
      );
      const page = pageOf(rows, limit);
      return { items: page.rows.map(toEndpoint), nextCursor: page.nextCursor };
    },
    async listEndpointRoutes(projectId) {
      const rows = await db.all<{
        id: string;
        user_id: string | null;
        event_types: string;
        object_types: string;
        enabled: number;
        health_state: string;
        consecutive_failures: number;
        updated_at_ms: number;
        limited: number | boolean;
        retry_delays_ms: string | null;
        egress_allow: string | null;
      }>(
        `SELECT e.id, e.user_id, e.event_types, e.object_types, e.enabled, e.health_state, e.consecutive_failures, e.updated_at_ms,
           (e.max_concurrency IS NOT NULL OR e.rate_limit_per_second IS NOT NULL) AS limited,
           s.retry_delays_ms, s.egress_allow
         FROM endpoints e LEFT JOIN delivery_settings s ON s.project_id = e.project_id
         WHERE e.project_id = ? ORDER BY e.id`,
        [projectId],
      );
      return rows.map((r) => ({
        id: r.id as EndpointId,
        userId: r.user_id,
        eventTypes: JSON.parse(r.event_types) as string[],
        objectTypes: JSON.parse(r.object_types) as string[],
        active: Number(r.enabled) === 1 && r.health_state !== 'disabled',
        updatedAtMs: Number(r.updated_at_ms),
        healthState: r.health_state as EndpointHealthState,
        consecutiveFailures: Number(r.consecutive_failures),
        limited: r.limited === true || Number(r.limited) === 1,
        retryDelaysMs: r.retry_delays_ms === null ? null : (JSON.parse(r.retry_delays_ms) as number[]),
        egressAllow: r.egress_allow === null ? null : (JSON.parse(r.egress_allow) as string[]),
      }));
    },
    async updateEndpoint(e) {
      const { changes } = await db.run(
        `UPDATE endpoints SET ${ENDPOINT_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ? AND project_id = ?`,
        [...endpointConfig(e), e.id, e.projectId],
      );
      return changes > 0;
    },
    async deleteEndpoint(projectId, id) {
      return db.transaction(async (tx) => {
        const { changes } = await tx.run('DELETE FROM endpoints WHERE project_id = ? AND id = ?', [
          projectId,
          id,
        ]);
        if (changes === 0) return false;
        // Through the endpoint's deliveries: attempts are keyed by delivery.
        await tx.run(
          'DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE project_id = ? AND endpoint_id = ?)',
          [projectId, id],
        );
        await tx.run('DELETE FROM deliveries WHERE project_id = ? AND endpoint_id = ?', [projectId, id]);
        await tx.run('DELETE FROM endpoint_leases WHERE endpoint_id = ?', [id]);
        return true;
      });
    },
    async getEndpointHealth(id) {
      const row = await db.get<EndpointRow>(
        `SELECT ${HEALTH_COLUMNS.join(', ')}, health_version FROM endpoints WHERE id = ?`,
        [id],
      );
      return row ? toHealth(row) : null;
    },
    async compareAndSetEndpointHealth(id, expectedVersion, next) {
      const { changes } = await db.run(
        `UPDATE endpoints SET ${HEALTH_COLUMNS.map((c) => `${c} = ?`).join(', ')}, health_version = ? WHERE id = ? AND health_version = ?`,
        [...healthValues(next), expectedVersion + 1, id, expectedVersion],
      );
      return changes > 0;
    },
    async failPendingDeliveries(endpointId, nowMs) {
      const { changes } = await db.run(
        "UPDATE deliveries SET status = 'failed', last_failure_kind = 'endpoint_disabled', updated_at_ms = ? WHERE endpoint_id = ? AND status = 'pending'",
        [nowMs, endpointId],
      );
      return changes;
    },
  };
}
