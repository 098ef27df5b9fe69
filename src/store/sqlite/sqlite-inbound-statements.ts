import { BODY_AT, EVENT_COLUMNS, PROCESS_STATUS_AT, PROJECT_ID_AT } from '../sql/inbound-event-rows.ts';
import type { SqlValue, SyncExecutor } from '../sql/sql-executor.ts';

/**
 * SQLite's inbound event insert: a batch of event rows (inbound-event-rows.ts) as synchronous SQL
 * over the caller's transaction; also a job of the writer thread (offload-jobs.ts).
 */

const ROW_MARKS = `(${Array.from({ length: 19 }, () => '?').join(', ')})`;

/** Of the projects of a batch's decided rows, those with an enabled endpoint (SQLite, in the batch's transaction). */
function projectsWithEndpointsSync(tx: SyncExecutor, rows: readonly SqlValue[][]): Set<string> {
  const decided = new Set<string>();
  for (const row of rows) if (row[PROCESS_STATUS_AT] === 'done') decided.add(row[PROJECT_ID_AT] as string);
  if (decided.size === 0) return decided;
  const ids = [...decided];
  const found = tx.all<{ project_id: string }>(
    `SELECT DISTINCT project_id FROM endpoints WHERE project_id IN (${ids.map(() => '?').join(', ')}) AND enabled = 1`,
    ids,
  );
  return new Set(found.map((r) => r.project_id));
}

const INSERT_EVENT = `INSERT INTO inbound_events (${EVENT_COLUMNS}) VALUES ${ROW_MARKS} ON CONFLICT (source_id, dedupe_key) DO NOTHING`;

/** The row with the body as a Buffer, in place: structured cloning (to the writer thread) turns a
 * Buffer into a plain Uint8Array. */
function withBodyBuffer(row: SqlValue[]): SqlValue[] {
  const raw = row[BODY_AT] as Uint8Array;
  row[BODY_AT] = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return row;
}

const EXISTING_EVENT = 'SELECT id FROM inbound_events WHERE source_id = ? AND dedupe_key = ?';

/**
 * A batch of event rows in the caller's transaction (SQLite); also the writer thread's job. Per
 * row: null when it was inserted (its id is the row's), else the id of the stored event it
 * duplicates. Nulls clone back to the event loop for next to nothing, where an object per event
 * cost a clone each way (inbound-queries.ts makes the results).
 */
export function insertInboundEventRowsSync(
  tx: SyncExecutor,
  rows: readonly SqlValue[][],
): Array<string | null> {
  const forwarded = projectsWithEndpointsSync(tx, rows);
  return rows.map((row) => {
    if (forwarded.has(row[PROJECT_ID_AT] as string)) row[PROCESS_STATUS_AT] = 'pending';
    if (tx.run(INSERT_EVENT, withBodyBuffer(row)).changes > 0) return null;
    const existing = tx.all<{ id: string }>(EXISTING_EVENT, [row[2] as string, row[3] as string])[0];
    return existing?.id ?? (row[0] as string);
  });
}
