import type { Db } from '../sql/db.ts';
import { CLAIM_JOINS, CLAIM_SELECT, CLAIMED_COLUMNS, type ClaimRow } from '../sql/delivery/claims.ts';
import {
  IDEMPOTENCY_SELECT,
  IDEMPOTENCY_UPSERT,
  M_CREATED,
  M_ID,
  M_IDEMPOTENCY_KEY,
  M_PROJECT,
  planMessages,
} from '../sql/delivery/messages.ts';
import { ATTEMPT_COLUMNS, DELIVERY_COLUMNS, MESSAGE_COLUMNS } from '../sql/delivery/table-columns.ts';
import type { DeliveryHotPath } from '../sql/sql-dialect.ts';
import type { SqlExecutor, SqlValue } from '../sql/sql-executor.ts';

/**
 * PostgreSQL's delivery hot path: a publish batch, a claim, a release and a batch of outcomes are
 * each one statement (one round trip), their rows passed as one JSON parameter; claims, releases
 * and outcomes run on connections set for them (PG_HOT_PATH_SETTINGS).
 */

const PG_MESSAGE_RECORD =
  'id text, project_id text, event_type text, object_type text, credential_id text, user_id text, ordering_key text, idempotency_key text, body text, created_at_ms bigint, delivery_ids text';
const PG_DELIVERY_RECORD =
  'id text, project_id text, message_id text, endpoint_id text, ordering_key text, status text, attempt_count integer, schedule_position integer, next_attempt_at_ms bigint, last_attempt_at_ms bigint, last_status_code integer, last_failure_kind text, created_at_ms bigint, updated_at_ms bigint, leased_until_ms bigint';
const PG_ATTEMPT_RECORD =
  'id text, project_id text, delivery_id text, message_id text, endpoint_id text, attempt_number integer, started_at_ms bigint, duration_ms bigint, outcome text, status_code integer, error_kind text, error_message text, response_headers text, response_body text, response_body_truncated smallint, next_attempt_at_ms bigint';
/**
 * An outcome row as outcomes.ts's completionValues lays it out (made appears three times; the last
 * value is 'pending': the state an outcome applies to, as a value and not a constant in the
 * statement, with which the planner would prove the partial index deliveries_due applies and scan
 * all of it).
 */
const PG_OUTCOME_RECORD =
  'status text, next bigint, updated bigint, made integer, made_count integer, started bigint, made_code integer, code integer, kind text, id text, pending text';

/**
 * PostgreSQL: one parameter, a JSON array of rows that are themselves arrays (in `record`'s
 * order, `name type, …`), read as a set of typed columns. Positional arrays, not objects: the
 * rows need no object per row on our side, and jsonb reads a field by position where
 * json_to_recordset hashes every row's keys (measured on a 256-row batch: 15 against 35 µs a
 * row, parameter building included; docs/benchmarks.md).
 */
function pgRowsOf(record: string, alias: string, tableColumns?: string): string {
  const fields = record.split(', ').map((c) => c.split(' ') as [string, string]);
  // The rows are positional: a record that lists the table's columns in another order would
  // store values in the wrong columns, so it fails here, when the module loads.
  if (tableColumns !== undefined && fields.map(([name]) => name).join(', ') !== tableColumns)
    throw new Error(`PostgreSQL record out of step with its columns: ${record}`);
  const columns = fields.map(([name, type], i) => `CAST(${alias}->>${i} AS ${type}) AS ${name}`);
  return `SELECT ${columns.join(', ')} FROM jsonb_array_elements(CAST(? AS jsonb)) AS ${alias}`;
}

const PG_INSERT_MESSAGES = `WITH m AS (
    INSERT INTO messages (${MESSAGE_COLUMNS}) ${pgRowsOf(PG_MESSAGE_RECORD, 'x', MESSAGE_COLUMNS)}
  )
  INSERT INTO deliveries (${DELIVERY_COLUMNS}) ${pgRowsOf(PG_DELIVERY_RECORD, 'y', DELIVERY_COLUMNS)}`;
export const PG_COMPLETE_DELIVERIES = `WITH a AS (
    INSERT INTO attempts (${ATTEMPT_COLUMNS}) ${pgRowsOf(PG_ATTEMPT_RECORD, 'x', ATTEMPT_COLUMNS)}
  )
  UPDATE deliveries SET status = v.status, next_attempt_at_ms = v.next, updated_at_ms = v.updated,
    attempt_count = deliveries.attempt_count + v.made, schedule_position = deliveries.schedule_position + v.made,
    last_attempt_at_ms = COALESCE(v.started, deliveries.last_attempt_at_ms),
    last_status_code = CASE WHEN v.made = 1 THEN v.code ELSE deliveries.last_status_code END,
    last_failure_kind = v.kind, leased_until_ms = NULL
  FROM (${pgRowsOf(PG_OUTCOME_RECORD, 'r')}) AS v
  WHERE deliveries.id = v.id AND deliveries.status = v.pending`;
/** The outcome statement's second parameter: completion rows (completionValues) as PG_OUTCOME_RECORD. */
export function pgOutcomeRows(outcomes: readonly SqlValue[][]): string {
  return JSON.stringify(outcomes);
}

/**
 * PostgreSQL: the settings of the connections that claim deliveries and record outcomes
 * (Db.withSettings), so each is one statement and one round trip instead of BEGIN, SET LOCAL, the
 * statement and COMMIT. Rows are found through indexes only, joins by nested loops on them: a fresh
 * or fast-growing table has no statistics yet, and the planner would rather sort every pending row
 * for a claim, or read the whole backlog through deliveries_due for a batch of outcomes or a
 * release (test/store/postgres-plans.test.ts). Their commits do not wait for the WAL flush: a lost
 * lease, release or outcome is harmless (as on SQLite: offload-jobs.ts, LAZY_DURABILITY_JOBS). Nothing else runs
 * on these connections.
 */
export const PG_HOT_PATH_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  enable_seqscan: 'off',
  enable_bitmapscan: 'off',
  enable_hashjoin: 'off',
  enable_mergejoin: 'off',
  synchronous_commit: 'off',
});
/**
 * PostgreSQL: gives claimed deliveries back. Parameters: the new due time, then rows of
 * [id, 'pending'] (pgReleaseRows). The state is a value in each row, as in the outcome statement:
 * with `status = 'pending'` in the statement the planner may prove deliveries_due applies and scan
 * the whole pending backlog for the ids (seen in a benchmark run: 11-17 ms a release of 16, 2,800
 * rows read and dropped; test/store/postgres-plans.test.ts).
 */
export const PG_RELEASE_DELIVERIES = `UPDATE deliveries SET next_attempt_at_ms = ?, leased_until_ms = NULL
  FROM (${pgRowsOf('id text, pending text', 'r')}) AS v
  WHERE deliveries.id = v.id AND deliveries.status = v.pending`;
export function pgReleaseRows(ids: readonly string[]): string {
  return JSON.stringify(ids.map((id) => [id, 'pending']));
}

/** The database's clock in epoch ms. */
export const PG_NOW_MS = 'CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)';

/**
 * PostgreSQL's claim as one statement. Parameters: the filter's, then the candidate window, the
 * per-endpoint limits (JSON), the default per-endpoint limit, the per-project limits (JSON; a
 * project not named has none but the claim's), the claim's limit, the lease's end. A row over its
 * endpoint's cap does not count toward its project's.
 */
export function pgClaimSql(filter: string): string {
  return `WITH candidates AS (
             SELECT d.id, d.project_id, d.endpoint_id, d.next_attempt_at_ms, d.seq FROM deliveries d WHERE ${filter}
             ORDER BY d.next_attempt_at_ms, d.seq LIMIT ? FOR UPDATE OF d SKIP LOCKED
           ), ranked AS (
             SELECT id, project_id, endpoint_id, next_attempt_at_ms, seq,
               row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at_ms, seq) AS n
             FROM candidates
           ), capped AS (
             SELECT r.id, r.project_id, r.next_attempt_at_ms, r.seq,
               row_number() OVER (PARTITION BY r.project_id ORDER BY r.next_attempt_at_ms, r.seq) AS pn
             FROM ranked r LEFT JOIN jsonb_each_text(CAST(? AS jsonb)) lim ON lim.key = r.endpoint_id
             WHERE r.n <= COALESCE(CAST(lim.value AS integer), ?)
           ), picked AS (
             SELECT c.id FROM capped c LEFT JOIN jsonb_each_text(CAST(? AS jsonb)) plim ON plim.key = c.project_id
             WHERE plim.value IS NULL OR c.pn <= CAST(plim.value AS integer)
             ORDER BY c.next_attempt_at_ms, c.seq LIMIT ?
           ), claimed AS (
             UPDATE deliveries SET leased_until_ms = ? FROM picked WHERE deliveries.id = picked.id RETURNING ${CLAIMED_COLUMNS}
           )
           ${CLAIM_SELECT} FROM claimed d ${CLAIM_JOINS} ORDER BY d.seq`;
}

export function createPostgresDeliveryHotPath(db: Db): DeliveryHotPath {
  /** Claims, releases and outcomes, each one statement on connections set for them. */
  let hot: SqlExecutor | undefined;
  const hotPath = (): SqlExecutor => {
    if (!db.withSettings) throw new Error('the PostgreSQL driver has no connections with settings');
    hot ??= db.withSettings(PG_HOT_PATH_SETTINGS);
    return hot;
  };
  return {
    async insertMessages(batch) {
      // The rows go as JSON in one INSERT per table; without idempotency keys the whole batch is
      // one statement (atomic on its own), so a publish costs one round trip.
      const insert = (tx: SqlExecutor, messageRows: SqlValue[][], deliveryRows: SqlValue[][]) =>
        tx.run(PG_INSERT_MESSAGES, [JSON.stringify(messageRows), JSON.stringify(deliveryRows)]);
      if (batch.every((b) => b.idempotencyNotBeforeMs === null)) {
        const { results, messageRows, deliveryRows } = planMessages(batch, () => null);
        await insert(db, messageRows, deliveryRows);
        return results;
      }
      return db.transaction(async (tx) => {
        // In batch order, so a second use of a key in the same batch sees the first.
        const earlier = new Map<SqlValue | undefined, string | null>();
        for (const { message: m, idempotencyNotBeforeMs } of batch) {
          if (idempotencyNotBeforeMs === null) continue;
          const key = [m[M_PROJECT] ?? null, m[M_IDEMPOTENCY_KEY] ?? null];
          const won = await tx.get<{ message_id: string }>(IDEMPOTENCY_UPSERT, [
            ...key,
            m[M_ID] ?? null,
            m[M_CREATED] ?? null,
            idempotencyNotBeforeMs,
          ]);
          const existing = won ? undefined : await tx.get<{ message_id: string }>(IDEMPOTENCY_SELECT, key);
          earlier.set(m[M_ID], won ? null : (existing?.message_id ?? (m[M_ID] as string)));
        }
        const { results, messageRows, deliveryRows } = planMessages(
          batch,
          (m) => earlier.get(m[M_ID]) ?? null,
        );
        await insert(tx, messageRows, deliveryRows);
        return results;
      });
    },
    claimDue(claim) {
      // One statement: lock (skipping rows other workers hold), cap per endpoint, push the lease,
      // join the bodies. Candidates not picked are unlocked when the statement ends. The oldest
      // due rows come off the partial index in order (PG_HOT_PATH_SETTINGS). The returned columns
      // are named, so the statement can be prepared (postgres-db.ts).
      return hotPath().all<ClaimRow>(pgClaimSql(claim.filter), [
        ...claim.filterParams,
        claim.candidates,
        JSON.stringify(claim.endpointLimits),
        claim.perEndpointLimit,
        JSON.stringify(claim.projectLimits),
        claim.limit,
        claim.leasedUntilMs,
      ]);
    },
    releaseDeliveries(ids, nextAttemptAtMs) {
      // One statement on the hot path's connections, each row found by primary key, not BEGIN,
      // the settings, the update and COMMIT: four round trips. Lazily durable, as on SQLite.
      return hotPath().run(PG_RELEASE_DELIVERIES, [nextAttemptAtMs, pgReleaseRows(ids)]);
    },
    completeDeliveries(rows) {
      // Attempts and outcomes as JSON, one statement, atomic. Each outcome finds its row by
      // primary key (joins forced to nested loops on it). With `status = 'pending'` as a constant
      // the planner instead read every pending row through the partial index and hash-joined: a
      // batch cost time in proportion to the backlog (3.6 ms a batch of ~30 with thousands
      // pending, pg_stat_statements).
      return hotPath().run(PG_COMPLETE_DELIVERIES, [
        JSON.stringify(rows.attempts),
        pgOutcomeRows(rows.outcomes),
      ]);
    },
  };
}
