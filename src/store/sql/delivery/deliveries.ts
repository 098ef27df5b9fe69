import type { AttemptId, DeliveryId, EndpointId, MessageId, ProjectId } from '../../../domain/ids.ts';
import type { DeliveryErrorKind } from '../../../domain/retry-policy.ts';
import type {
  AttemptRecord,
  DeliveryFailureKind,
  DeliveryRecord,
  DeliveryStatus,
  DeliveryStore,
} from '../../delivery-store.ts';
import type { Db } from '../db.ts';
import type { SqlExecutor } from '../sql-executor.ts';
import { chunks, insertRows, num, paddedIn } from '../sql-lists.ts';
import { ATTEMPT_COLUMNS, DELIVERY_COLUMNS } from './table-columns.ts';

/** Deliveries and their attempts as the API reads them, and queuing finished ones again. */

export interface DeliveryRow {
  id: string;
  project_id: string;
  message_id: string;
  endpoint_id: string;
  ordering_key: string | null;
  status: string;
  attempt_count: number;
  schedule_position: number;
  next_attempt_at_ms: number;
  last_attempt_at_ms: number | null;
  last_status_code: number | null;
  last_failure_kind: string | null;
  created_at_ms: number;
  updated_at_ms: number;
  leased_until_ms: number | null;
}

export interface AttemptRow {
  id: string;
  project_id: string;
  delivery_id: string;
  message_id: string;
  endpoint_id: string;
  attempt_number: number;
  started_at_ms: number;
  duration_ms: number;
  outcome: string;
  status_code: number | null;
  error_kind: string | null;
  error_message: string | null;
  response_headers: string;
  response_body: string;
  response_body_truncated: number;
  next_attempt_at_ms: number | null;
}

export const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id as DeliveryId,
  projectId: r.project_id as ProjectId,
  messageId: r.message_id as MessageId,
  endpointId: r.endpoint_id as EndpointId,
  orderingKey: r.ordering_key,
  status: r.status as DeliveryStatus,
  attemptCount: Number(r.attempt_count),
  schedulePosition: Number(r.schedule_position),
  // A leased delivery is attempted again at the latest when its lease ends.
  nextAttemptAtMs: Math.max(Number(r.next_attempt_at_ms), Number(r.leased_until_ms ?? 0)),
  lastAttemptAtMs: num(r.last_attempt_at_ms),
  lastStatusCode: num(r.last_status_code),
  lastFailureKind: r.last_failure_kind as DeliveryFailureKind | null,
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});

export const toAttempt = (r: AttemptRow): AttemptRecord => ({
  id: r.id as AttemptId,
  projectId: r.project_id as ProjectId,
  deliveryId: r.delivery_id as DeliveryId,
  messageId: r.message_id as MessageId,
  endpointId: r.endpoint_id as EndpointId,
  attemptNumber: Number(r.attempt_number),
  startedAtMs: Number(r.started_at_ms),
  durationMs: Number(r.duration_ms),
  outcome: r.outcome as 'succeeded' | 'failed',
  statusCode: num(r.status_code),
  errorKind: r.error_kind as DeliveryErrorKind | null,
  errorMessage: r.error_message,
  responseHeaders: JSON.parse(r.response_headers) as Record<string, string>,
  responseBody: r.response_body,
  responseBodyTruncated: Number(r.response_body_truncated) === 1,
  nextAttemptAtMs: num(r.next_attempt_at_ms),
});

/** The ids in a messages.delivery_ids list (empty for a message that matched no endpoint). */
function deliveryIdsOf(list: string | null | undefined): string[] {
  return list ? list.split(',') : [];
}

/**
 * The deliveries a message's delivery_ids `list` names, in its order (creation order), with
 * `columns` (which must include id), each found by primary key. A delivery deleted with its
 * endpoint is left in the list and simply not found.
 */
async function messageDeliveries<T extends { id: string }>(
  tx: SqlExecutor,
  projectId: string,
  list: string | undefined,
  columns: string,
): Promise<T[]> {
  const ids = deliveryIdsOf(list);
  const rows: T[] = [];
  for (const chunk of chunks(ids)) {
    const p = paddedIn(chunk);
    rows.push(
      ...(await tx.all<T>(`SELECT ${columns} FROM deliveries WHERE project_id = ? AND id IN (${p.marks})`, [
        projectId,
        ...p.params,
      ])),
    );
  }
  const order = new Map(ids.map((id, i) => [id, i]));
  return rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
}

export type DeliveryRecordQueries = Pick<
  DeliveryStore,
  'listMessageDeliveries' | 'getDelivery' | 'resendMessage' | 'recoverEndpoint'
>;

/**
 * `lockRowsSql` ends a SELECT that must lock the rows it reads until its transaction ends (empty
 * where a write transaction already excludes every other writer).
 */
export function createDeliveryRecordQueries(db: Db, lockRowsSql: string): DeliveryRecordQueries {
  // The message row first, locked where rows can be: two resends of it to a new endpoint then
  // take turns, and the second finds the delivery the first added to the list.
  const resendMessageSql = `SELECT ordering_key, delivery_ids FROM messages WHERE project_id = ? AND id = ?${lockRowsSql}`;
  return {
    async listMessageDeliveries(projectId, messageId) {
      const message = await db.get<{ delivery_ids: string }>(
        'SELECT delivery_ids FROM messages WHERE project_id = ? AND id = ?',
        [projectId, messageId],
      );
      const deliveries = await messageDeliveries<DeliveryRow>(
        db,
        projectId,
        message?.delivery_ids,
        DELIVERY_COLUMNS,
      );
      if (deliveries.length === 0) return [];
      const attempts: AttemptRow[] = [];
      for (const chunk of chunks(deliveries.map((d) => d.id))) {
        const ids = paddedIn(chunk);
        attempts.push(
          ...(await db.all<AttemptRow>(
            `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE project_id = ? AND delivery_id IN (${ids.marks}) ORDER BY delivery_id, attempt_number`,
            [projectId, ...ids.params],
          )),
        );
      }
      return deliveries.map((d) => ({
        ...toDelivery(d),
        attempts: attempts.filter((a) => a.delivery_id === d.id).map(toAttempt),
      }));
    },
    async getDelivery(projectId, id) {
      const row = await db.get<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE project_id = ? AND id = ?`,
        [projectId, id],
      );
      return row ? toDelivery(row) : null;
    },
    async resendMessage(projectId, messageId, nowMs, target) {
      return db.transaction(async (tx) => {
        const message = await tx.get<{ ordering_key: string | null; delivery_ids: string }>(
          resendMessageSql,
          [projectId, messageId],
        );
        if (!message) return [];
        const deliveries = await messageDeliveries<{ id: string; status: string; endpoint_id: string }>(
          tx,
          projectId,
          message.delivery_ids,
          'id, status, endpoint_id',
        );
        if (!target) {
          const again = deliveries.filter((d) => d.status !== 'pending').map((d) => d.id);
          const resent: DeliveryId[] = [];
          for (const chunk of chunks(again)) {
            const p = paddedIn(chunk);
            const rows = await tx.all<{ id: string }>(
              `UPDATE deliveries SET status = 'pending', schedule_position = 0, next_attempt_at_ms = ?, leased_until_ms = NULL, updated_at_ms = ? WHERE project_id = ? AND status <> 'pending' AND id IN (${p.marks}) RETURNING id`,
              [nowMs, nowMs, projectId, ...p.params],
            );
            for (const r of rows) resent.push(r.id as DeliveryId);
          }
          return resent;
        }
        const existing = deliveries.find((d) => d.endpoint_id === target.endpointId);
        if (existing) {
          if (existing.status === 'pending') return [];
          await tx.run(
            "UPDATE deliveries SET status = 'pending', schedule_position = 0, next_attempt_at_ms = ?, leased_until_ms = NULL, updated_at_ms = ? WHERE id = ?",
            [nowMs, nowMs, existing.id],
          );
          return [existing.id as DeliveryId];
        }
        await insertRows(tx, 'deliveries', DELIVERY_COLUMNS, [
          [
            target.newDeliveryId,
            projectId,
            messageId,
            target.endpointId,
            message.ordering_key,
            'pending',
            0,
            0,
            nowMs,
            null,
            null,
            null,
            nowMs,
            nowMs,
            null,
          ],
        ]);
        await tx.run('UPDATE messages SET delivery_ids = ? WHERE project_id = ? AND id = ?', [
          [...deliveryIdsOf(message.delivery_ids), target.newDeliveryId].join(','),
          projectId,
          messageId,
        ]);
        return [target.newDeliveryId];
      });
    },
    async recoverEndpoint(projectId, endpointId, sinceMs, nowMs) {
      const { changes } = await db.run(
        "UPDATE deliveries SET status = 'pending', schedule_position = 0, next_attempt_at_ms = ?, leased_until_ms = NULL, updated_at_ms = ? WHERE project_id = ? AND endpoint_id = ? AND status = 'failed' AND created_at_ms >= ?",
        [nowMs, nowMs, projectId, endpointId, sinceMs],
      );
      return changes;
    },
  };
}
