import { type EventId, idFloor, type ProjectId, type SourceId } from '../../domain/ids.ts';
import type {
  BucketRange,
  ConsoleStore,
  CountBucket,
  RefusalReasonCode,
  RefusedRequestRecord,
  StreamEventRecord,
} from '../console-store.ts';
import type { InboundEventStatus } from '../inbound-store.ts';
import type { Db } from './db.ts';
import { type AttemptRow, type DeliveryRow, toAttempt, toDelivery } from './delivery/deliveries.ts';
import { ATTEMPT_COLUMNS, DELIVERY_COLUMNS } from './delivery/table-columns.ts';
import type { SqlValue } from './sql-executor.ts';
import { insertRows, pageOf } from './sql-lists.ts';

const REFUSED_COLUMNS =
  'id, project_id, source_id, reason_code, reason, status, method, path, metadata, remote_address, body_bytes, body_sha256, count, received_at_ms';

interface RefusedRow {
  id: string;
  project_id: string | null;
  source_id: string;
  reason_code: string;
  reason: string;
  status: number;
  method: string;
  path: string;
  metadata: string;
  remote_address: string | null;
  body_bytes: number;
  body_sha256: string | null;
  count: number;
  received_at_ms: number;
}

const toRefused = (r: RefusedRow): RefusedRequestRecord => ({
  id: r.id,
  projectId: r.project_id as ProjectId | null,
  sourceId: r.source_id,
  reasonCode: r.reason_code as RefusalReasonCode,
  reason: r.reason,
  status: Number(r.status),
  method: r.method,
  path: r.path,
  metadata: JSON.parse(r.metadata) as Record<string, string>,
  remoteAddress: r.remote_address,
  bodyBytes: Number(r.body_bytes),
  bodySha256: r.body_sha256,
  count: Number(r.count),
  receivedAtMs: Number(r.received_at_ms),
});

interface StreamEventRow {
  id: string;
  source_id: string;
  event_type: string | null;
  provider_event_id: string | null;
  status: string;
  tenant_id: string | null;
  credential_id: string | null;
  method: string;
  body_bytes: number;
  received_at_ms: number;
}

const toStreamEvent = (r: StreamEventRow): StreamEventRecord => ({
  id: r.id as EventId,
  sourceId: r.source_id as SourceId,
  eventType: r.event_type,
  providerEventId: r.provider_event_id,
  status: r.status as InboundEventStatus,
  tenantId: r.tenant_id,
  credentialId: r.credential_id,
  method: r.method,
  bodyBytes: Number(r.body_bytes),
  receivedAtMs: Number(r.received_at_ms),
});

// SQLite binds JS numbers as REAL: bucket numbers are cast, or a division would keep its fraction.

/** Nearest-rank percentile position in integer arithmetic: ceil(p/100 · n), which SQLite lacks. */
const rank = (p: number) => `(${p} * n + 99) / 100`;

export function createConsoleQueries(db: Db): ConsoleStore {
  const bucketed = async (sql: string, params: SqlValue[]): Promise<CountBucket[]> =>
    (await db.all<{ b: number; n: number }>(sql, params)).map((r) => ({
      startMs: Number(r.b),
      count: Number(r.n),
    }));
  const bucketStart = (range: BucketRange, rows: CountBucket[]) =>
    rows.map((r) => ({ ...r, startMs: range.fromMs + r.startMs * range.bucketMs }));

  return {
    async insertRefusedRequests(rows) {
      if (rows.length === 0) return;
      await db.transaction((tx) =>
        insertRows(
          tx,
          'refused_requests',
          REFUSED_COLUMNS,
          rows.map((r) => [
            r.id,
            r.projectId,
            r.sourceId,
            r.reasonCode,
            r.reason,
            r.status,
            r.method,
            r.path,
            JSON.stringify(r.metadata),
            r.remoteAddress,
            r.bodyBytes,
            r.bodySha256,
            r.count,
            r.receivedAtMs,
          ]),
        ),
      );
    },
    async listRefusedRequests(projectId, sourceId, { limit, after }) {
      const where = ['source_id = ?', projectId === null ? 'project_id IS NULL' : 'project_id = ?'];
      const params: SqlValue[] = [sourceId];
      if (projectId !== null) params.push(projectId);
      if (after) {
        where.push('id < ?');
        params.push(after);
      }
      params.push(limit + 1);
      const rows = await db.all<RefusedRow>(
        `SELECT ${REFUSED_COLUMNS} FROM refused_requests WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
        params,
      );
      const page = pageOf(rows, limit);
      return { items: page.rows.map(toRefused), nextCursor: page.nextCursor };
    },
    async pruneRefusedRequests({ olderThanMs, keepPerSource, sourceIds }) {
      let deleted = (await db.run('DELETE FROM refused_requests WHERE received_at_ms < ?', [olderThanMs]))
        .changes;
      for (const sourceId of sourceIds) {
        const r = await db.run(
          `DELETE FROM refused_requests WHERE source_id = ? AND id < (
             SELECT id FROM refused_requests WHERE source_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
          [sourceId, sourceId, keepPerSource - 1],
        );
        deleted += r.changes;
      }
      // Refusals of sources that do not exist share one allowance: their ids are whatever was sent.
      const r = await db.run(
        `DELETE FROM refused_requests WHERE project_id IS NULL AND id < (
           SELECT id FROM refused_requests WHERE project_id IS NULL ORDER BY id DESC LIMIT 1 OFFSET ?)`,
        [keepPerSource - 1],
      );
      deleted += r.changes;
      return deleted;
    },

    async listStreamEvents(projectId, { afterId, sourceId, limit }) {
      const params: SqlValue[] = [projectId, afterId];
      let where = 'project_id = ? AND id > ?';
      if (sourceId) {
        where += ' AND source_id = ?';
        params.push(sourceId);
      }
      params.push(limit);
      const rows = await db.all<StreamEventRow>(
        `SELECT id, source_id, event_type, provider_event_id, status, tenant_id, credential_id, method, length(body) AS body_bytes, received_at_ms
         FROM inbound_events WHERE ${where} ORDER BY id LIMIT ?`,
        params,
      );
      return rows.map(toStreamEvent);
    },
    async listStreamRefusals(projectId, { afterId, sourceId, limit }) {
      const params: SqlValue[] = [projectId, afterId];
      let where = 'project_id = ? AND id > ?';
      if (sourceId) {
        where += ' AND source_id = ?';
        params.push(sourceId);
      }
      params.push(limit);
      const rows = await db.all<RefusedRow>(
        `SELECT ${REFUSED_COLUMNS} FROM refused_requests WHERE ${where} ORDER BY id LIMIT ?`,
        params,
      );
      return rows.map(toRefused);
    },

    async insertStreamTicket(ticketHash, projectId, expiresAtMs) {
      await db.transaction(async (tx) => {
        // Tickets live a minute; expired ones are cleared by the next one made.
        await tx.run('DELETE FROM stream_tickets WHERE expires_at_ms < ?', [expiresAtMs - 3_600_000]);
        await tx.run('INSERT INTO stream_tickets (ticket_hash, project_id, expires_at_ms) VALUES (?, ?, ?)', [
          ticketHash,
          projectId,
          expiresAtMs,
        ]);
      });
    },
    async takeStreamTicket(ticketHash, nowMs) {
      // One statement both reads and deletes: of two requests with the same ticket, one gets it.
      const row = await db.get<{ project_id: string; expires_at_ms: number }>(
        'DELETE FROM stream_tickets WHERE ticket_hash = ? RETURNING project_id, expires_at_ms',
        [ticketHash],
      );
      if (!row || Number(row.expires_at_ms) <= nowMs) return null;
      return row.project_id as ProjectId;
    },

    async listEndpointAttempts(projectId, endpointId, filter, { limit, after }) {
      // Through the endpoint's deliveries (deliveries_by_endpoint), then each one's attempts by
      // key: attempts have no index by endpoint, and the hot path writes them.
      const where = ['d.endpoint_id = ?', 'd.project_id = ?', 'a.project_id = ?'];
      const params: SqlValue[] = [endpointId, projectId, projectId];
      if (filter.outcome) {
        where.push('a.outcome = ?');
        params.push(filter.outcome);
      }
      if (filter.startedFromMs !== undefined) {
        where.push('a.started_at_ms >= ?');
        params.push(filter.startedFromMs);
      }
      if (filter.startedToMs !== undefined) {
        // An attempt starts after its delivery was created: the bound narrows the deliveries read.
        where.push('a.started_at_ms < ?', 'd.created_at_ms < ?');
        params.push(filter.startedToMs, filter.startedToMs);
      }
      if (after) {
        where.push('a.id < ?');
        params.push(after);
      }
      params.push(limit + 1);
      const columns = ATTEMPT_COLUMNS.split(', ')
        .map((c) => `a.${c}`)
        .join(', ');
      const rows = await db.all<AttemptRow>(
        `SELECT ${columns} FROM deliveries d JOIN attempts a ON a.delivery_id = d.id
         WHERE ${where.join(' AND ')} ORDER BY a.id DESC LIMIT ?`,
        params,
      );
      const page = pageOf(rows, limit);
      return { items: page.rows.map(toAttempt), nextCursor: page.nextCursor };
    },
    async listDeliveries(projectId, filter, { limit, after }) {
      const where = ['project_id = ?'];
      const params: SqlValue[] = [projectId];
      if (filter.endpointId) {
        where.push('endpoint_id = ?');
        params.push(filter.endpointId);
      }
      if (filter.status) {
        where.push('status = ?');
        params.push(filter.status);
      }
      if (after) {
        where.push('id < ?');
        params.push(after);
      }
      params.push(limit + 1);
      const rows = await db.all<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
        params,
      );
      const page = pageOf(rows, limit);
      return { items: page.rows.map(toDelivery), nextCursor: page.nextCursor };
    },

    async countInboundEvents(projectId, range) {
      const rows = await bucketed(
        `SELECT CAST((received_at_ms - ?) / ? AS INTEGER) AS b, COUNT(*) AS n FROM inbound_events
         WHERE project_id = ? AND id >= ? AND id < ? AND received_at_ms >= ? AND received_at_ms < ?
         GROUP BY b ORDER BY b`,
        [
          range.fromMs,
          range.bucketMs,
          projectId,
          idFloor('event', range.fromMs),
          idFloor('event', range.toMs + 1),
          range.fromMs,
          range.toMs,
        ],
      );
      return bucketStart(range, rows);
    },
    async countRefusedRequests(projectId, range) {
      const rows = await bucketed(
        `SELECT CAST((received_at_ms - ?) / ? AS INTEGER) AS b, SUM(count) AS n FROM refused_requests
         WHERE project_id = ? AND received_at_ms >= ? AND received_at_ms < ?
         GROUP BY b ORDER BY b`,
        [range.fromMs, range.bucketMs, projectId, range.fromMs, range.toMs],
      );
      return bucketStart(range, rows);
    },
    async deliveryStats(projectId, range) {
      const rows = await db.all<{
        b: number;
        delivered: number;
        failed: number;
        p50: number | null;
        p90: number | null;
        p99: number | null;
      }>(
        `WITH d AS (
           SELECT CAST((created_at_ms - ?) / ? AS INTEGER) AS b, status, updated_at_ms - created_at_ms AS lat FROM deliveries
           WHERE project_id = ? AND id >= ? AND id < ? AND created_at_ms >= ? AND created_at_ms < ?
         ), r AS (
           SELECT b, lat, ROW_NUMBER() OVER (PARTITION BY b ORDER BY lat) AS rn, COUNT(*) OVER (PARTITION BY b) AS n
           FROM d WHERE status = 'succeeded'
         ), p AS (
           SELECT b, MAX(CASE WHEN rn = ${rank(50)} THEN lat END) AS p50,
                  MAX(CASE WHEN rn = ${rank(90)} THEN lat END) AS p90,
                  MAX(CASE WHEN rn = ${rank(99)} THEN lat END) AS p99
           FROM r GROUP BY b
         ), c AS (
           SELECT b, SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS delivered,
                  SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed
           FROM d GROUP BY b
         )
         SELECT c.b, c.delivered, c.failed, p.p50, p.p90, p.p99 FROM c LEFT JOIN p ON p.b = c.b ORDER BY c.b`,
        [
          range.fromMs,
          range.bucketMs,
          projectId,
          idFloor('delivery', range.fromMs),
          idFloor('delivery', range.toMs + 1),
          range.fromMs,
          range.toMs,
        ],
      );
      const n = (v: number | null) => (v === null ? null : Number(v));
      return rows.map((r) => ({
        startMs: range.fromMs + Number(r.b) * range.bucketMs,
        delivered: Number(r.delivered),
        failed: Number(r.failed),
        latencyP50Ms: n(r.p50),
        latencyP90Ms: n(r.p90),
        latencyP99Ms: n(r.p99),
      }));
    },
  };
}
