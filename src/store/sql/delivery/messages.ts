import type { MessageId, ProjectId } from '../../../domain/ids.ts';
import type { DeliveryStore, MessageRecord, NewMessage } from '../../delivery-store.ts';
import type { Page } from '../../page.ts';
import type { SqlExecutor, SqlValue } from '../sql-executor.ts';
import { pageOf } from '../sql-lists.ts';
import { MESSAGE_READ_COLUMNS } from './table-columns.ts';

/**
 * Messages: the publish batch as positional rows (both dialects store them, each its own way:
 * MessageWriter), the idempotency-key decision, and reading messages back.
 */

interface MessageRow {
  id: string;
  project_id: string;
  event_type: string;
  object_type: string | null;
  credential_id: string | null;
  user_id: string | null;
  ordering_key: string | null;
  idempotency_key: string | null;
  body: string;
  created_at_ms: number;
}

const toMessage = (r: MessageRow): MessageRecord => ({
  id: r.id as MessageId,
  projectId: r.project_id as ProjectId,
  eventType: r.event_type,
  objectType: r.object_type,
  credentialId: r.credential_id,
  userId: r.user_id,
  orderingKey: r.ordering_key,
  idempotencyKey: r.idempotency_key,
  body: r.body,
  createdAtMs: Number(r.created_at_ms),
});

/**
 * A publish batch as rows. Arrays of primitives clone cheaply to the SQLite writer thread; objects
 * would repeat every property name per message (measured: ~7 µs a message, ~15 µs an outcome).
 */
export interface MessageRows {
  /** In MESSAGE_COLUMNS order. */
  message: SqlValue[];
  /** In DELIVERY_COLUMNS order. */
  deliveries: SqlValue[][];
  idempotencyNotBeforeMs: number | null;
}
// Positions in a message row that the idempotency check reads.
export const M_ID = 0;
export const M_PROJECT = 1;
export const M_IDEMPOTENCY_KEY = 7;
export const M_CREATED = 9;

// The key row names the newest message that used the key; it is taken over only once it is older
// than the window, so concurrent publishers agree on one winner.
export const IDEMPOTENCY_UPSERT = `INSERT INTO message_idempotency_keys (project_id, idempotency_key, message_id, created_at_ms) VALUES (?, ?, ?, ?)
  ON CONFLICT (project_id, idempotency_key) DO UPDATE SET message_id = excluded.message_id, created_at_ms = excluded.created_at_ms
  WHERE message_idempotency_keys.created_at_ms < ? RETURNING message_id`;
export const IDEMPOTENCY_SELECT =
  'SELECT message_id FROM message_idempotency_keys WHERE project_id = ? AND idempotency_key = ?';

/** messages.delivery_ids: the message's deliveries, by id, in creation order. */
function deliveryIdList(deliveries: ReadonlyArray<{ id: string }>): string {
  return deliveries.map((d) => d.id).join(',');
}

export function toMessageRows(batch: readonly NewMessage[]): MessageRows[] {
  return batch.map(({ message: m, deliveries, idempotencyNotBeforeMs }) => ({
    message: [
      m.id,
      m.projectId,
      m.eventType,
      m.objectType,
      m.credentialId,
      m.userId,
      m.orderingKey,
      m.idempotencyKey,
      m.body,
      m.createdAtMs,
      deliveryIdList(deliveries),
    ],
    deliveries: deliveries.map((d) => [
      d.id,
      m.projectId,
      m.id,
      d.endpointId,
      m.orderingKey,
      d.status,
      0,
      0,
      // A delivery handed to this process's worker at publish is due when its lease ends, not
      // now: due now, it would sit at the head of deliveries_due while in flight, and every claim
      // would step over it (an index entry and a heap visit each) to the work behind it.
      d.leasedUntilMs ?? m.createdAtMs,
      null,
      null,
      d.status === 'failed' ? 'endpoint_disabled' : null,
      m.createdAtMs,
      m.createdAtMs,
      d.leasedUntilMs ?? null,
    ]),
    idempotencyNotBeforeMs: m.idempotencyKey !== null ? (idempotencyNotBeforeMs ?? null) : null,
  }));
}

/**
 * Decides each message of a batch: a duplicate (an earlier message holds its idempotency key,
 * `earlierFor` names it) or new, with its rows. `earlierFor` returns null when the message may be stored.
 */
export function planMessages(
  batch: readonly MessageRows[],
  earlierFor: (message: SqlValue[], notBeforeMs: number) => string | null,
): {
  results: Array<{ id: MessageId; duplicate: boolean }>;
  messageRows: SqlValue[][];
  deliveryRows: SqlValue[][];
} {
  const results: Array<{ id: MessageId; duplicate: boolean }> = [];
  const messageRows: SqlValue[][] = [];
  const deliveryRows: SqlValue[][] = [];
  for (const { message, deliveries, idempotencyNotBeforeMs } of batch) {
    if (idempotencyNotBeforeMs !== null) {
      const earlier = earlierFor(message, idempotencyNotBeforeMs);
      if (earlier !== null) {
        results.push({ id: earlier as MessageId, duplicate: true });
        continue;
      }
    }
    results.push({ id: message[M_ID] as MessageId, duplicate: false });
    messageRows.push(message);
    for (const d of deliveries) deliveryRows.push(d);
  }
  return { results, messageRows, deliveryRows };
}

/** How a dialect stores a publish batch (rows from toMessageRows, never empty) in one transaction. */
export interface MessageWriter {
  insertMessages(batch: readonly MessageRows[]): Promise<Array<{ id: MessageId; duplicate: boolean }>>;
}

export type MessageQueries = Pick<DeliveryStore, 'insertMessages' | 'getMessage' | 'listMessages'>;

export function createMessageQueries(db: SqlExecutor, writer: MessageWriter): MessageQueries {
  return {
    async insertMessages(messages) {
      if (messages.length === 0) return [];
      return writer.insertMessages(toMessageRows(messages));
    },
    async getMessage(projectId, id) {
      const row = await db.get<MessageRow>(
        `SELECT ${MESSAGE_READ_COLUMNS} FROM messages WHERE project_id = ? AND id = ?`,
        [projectId, id],
      );
      return row ? toMessage(row) : null;
    },
    async listMessages(projectId, filter, { limit, after }): Promise<Page<MessageRecord>> {
      const where = ['project_id = ?'];
      const params: SqlValue[] = [projectId];
      if (after) {
        where.push('id < ?');
        params.push(after);
      }
      if (filter.eventType !== undefined) {
        where.push('event_type = ?');
        params.push(filter.eventType);
      }
      if (filter.credentialId !== undefined) {
        where.push('credential_id = ?');
        params.push(filter.credentialId);
      }
      params.push(limit + 1);
      const rows = await db.all<MessageRow>(
        `SELECT ${MESSAGE_READ_COLUMNS} FROM messages WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
        params,
      );
      const page = pageOf(rows, limit);
      return { items: page.rows.map(toMessage), nextCursor: page.nextCursor };
    },
  };
}
