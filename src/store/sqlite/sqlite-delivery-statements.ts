import type { MessageId } from '../../domain/ids.ts';
import { CLAIM_JOINS, CLAIM_SELECT, type ClaimPlan, type ClaimRow } from '../sql/delivery/claims.ts';
import {
  IDEMPOTENCY_SELECT,
  IDEMPOTENCY_UPSERT,
  M_CREATED,
  M_ID,
  M_IDEMPOTENCY_KEY,
  M_PROJECT,
  type MessageRows,
  planMessages,
} from '../sql/delivery/messages.ts';
import type { CompletionRows } from '../sql/delivery/outcomes.ts';
import {
  ATTEMPT_COLUMNS,
  ATTEMPT_FIELDS,
  DELIVERY_COLUMNS,
  DELIVERY_FIELDS,
  MESSAGE_COLUMNS,
  MESSAGE_FIELDS,
} from '../sql/delivery/table-columns.ts';
import type { SyncExecutor } from '../sql/sql-executor.ts';
import { chunks, marks, paddedIn } from '../sql/sql-lists.ts';

/**
 * SQLite's delivery hot path statements: publish batches, claims, releases and outcomes as
 * synchronous SQL over the caller's transaction, with prepared statements and no promise per row.
 * Each is also a job of the writer thread (offload-jobs.ts), where the SQL work stays off the
 * event loop; sqlite-delivery-hot-path.ts chooses where each runs.
 */

const INSERT_MESSAGE = `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES (${marks(MESSAGE_FIELDS.length)})`;
const INSERT_DELIVERY = `INSERT INTO deliveries (${DELIVERY_COLUMNS}) VALUES (${marks(DELIVERY_FIELDS.length)})`;
const INSERT_ATTEMPT = `INSERT INTO attempts (${ATTEMPT_COLUMNS}) VALUES (${marks(ATTEMPT_FIELDS.length)})`;
/** One outcome, its parameters as outcomes.ts's completionValues lays them out. */
const COMPLETE_DELIVERY = `UPDATE deliveries SET status = ?, next_attempt_at_ms = ?, updated_at_ms = ?,
  attempt_count = attempt_count + ?, schedule_position = schedule_position + ?,
  last_attempt_at_ms = COALESCE(?, last_attempt_at_ms),
  last_status_code = CASE WHEN ? = 1 THEN ? ELSE last_status_code END,
  last_failure_kind = ?, leased_until_ms = NULL WHERE id = ? AND status = ?`;

/** Gives claimed deliveries back (`marks` from paddedIn). */
export const releaseDeliveriesSql = (marks: string): string =>
  `UPDATE deliveries SET next_attempt_at_ms = ?, leased_until_ms = NULL WHERE status = 'pending' AND id IN (${marks})`;

/** A publish batch in the caller's transaction; also the writer thread's job. */
export function insertMessagesSync(
  tx: SyncExecutor,
  batch: readonly MessageRows[],
): Array<{ id: MessageId; duplicate: boolean }> {
  const { results, messageRows, deliveryRows } = planMessages(batch, (m, notBeforeMs) => {
    const params = [m[M_PROJECT] ?? null, m[M_IDEMPOTENCY_KEY] ?? null];
    const won = tx.all<{ message_id: string }>(IDEMPOTENCY_UPSERT, [
      ...params,
      m[M_ID] ?? null,
      m[M_CREATED] ?? null,
      notBeforeMs,
    ])[0];
    if (won) return null;
    return tx.all<{ message_id: string }>(IDEMPOTENCY_SELECT, params)[0]?.message_id ?? (m[M_ID] as string);
  });
  for (const row of messageRows) tx.run(INSERT_MESSAGE, row);
  for (const row of deliveryRows) tx.run(INSERT_DELIVERY, row);
  return results;
}

/** Delivery outcomes and their attempts in the caller's transaction; also a writer-thread job. */
export function completeDeliveriesSync(tx: SyncExecutor, rows: CompletionRows): void {
  for (const row of rows.attempts) tx.run(INSERT_ATTEMPT, row);
  for (const row of rows.outcomes) tx.run(COMPLETE_DELIVERY, row);
}

/**
 * Claimed deliveries given back unattempted, in the caller's transaction; also a writer-thread
 * job (with lazy durability, as claims: a release lost to a power cut leaves its deliveries leased
 * until the lease ends, and they are claimed then).
 */
export function releaseDeliveriesSync(
  tx: SyncExecutor,
  input: { ids: readonly string[]; nextAttemptAtMs: number },
): void {
  for (const chunk of chunks(input.ids)) {
    const p = paddedIn(chunk);
    tx.run(releaseDeliveriesSql(p.marks), [input.nextAttemptAtMs, ...p.params]);
  }
}

/**
 * Reads a window of the oldest due rows, picks up to each endpoint's cap, leases them and returns
 * them with their message bodies; a writer-thread job (the rows clone back to the event loop, the
 * SQL work stays off it).
 */
export function claimDueSync(tx: SyncExecutor, c: ClaimPlan): ClaimRow[] {
  // Read lazily: once `limit` rows are picked the rest of the candidate window is never read.
  const rows = tx.iterate<{ id: string; endpoint_id: string; project_id: string }>(
    `SELECT d.id, d.endpoint_id, d.project_id FROM deliveries d WHERE ${c.filter} ORDER BY d.next_attempt_at_ms, d.seq LIMIT ?`,
    [...c.filterParams, c.candidates],
  );
  const perEndpoint = new Map<string, number>();
  const perProject = new Map<string, number>();
  const picked: string[] = [];
  for (const r of rows) {
    const n = perEndpoint.get(r.endpoint_id) ?? 0;
    if (n >= (c.endpointLimits[r.endpoint_id] ?? c.perEndpointLimit)) continue;
    const projectLimit = c.projectLimits[r.project_id];
    const p = perProject.get(r.project_id) ?? 0;
    if (projectLimit !== undefined && p >= projectLimit) continue;
    perEndpoint.set(r.endpoint_id, n + 1);
    perProject.set(r.project_id, p + 1);
    picked.push(r.id);
    if (picked.length >= c.limit) break;
  }
  const out: ClaimRow[] = [];
  for (const chunk of chunks(picked)) {
    const ids = paddedIn(chunk);
    tx.run(`UPDATE deliveries SET leased_until_ms = ? WHERE id IN (${ids.marks})`, [
      c.leasedUntilMs,
      ...ids.params,
    ]);
    out.push(
      ...tx.all<ClaimRow>(
        `${CLAIM_SELECT} FROM deliveries d ${CLAIM_JOINS} WHERE d.id IN (${ids.marks}) ORDER BY d.seq`,
        ids.params,
      ),
    );
  }
  return out;
}
