import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  PG_COMPLETE_DELIVERIES,
  PG_HOT_PATH_SETTINGS,
  PG_NOW_MS,
  PG_RELEASE_DELIVERIES,
  pgClaimSql,
  pgOutcomeRows,
  pgReleaseRows,
} from '../../src/store/postgres/postgres-delivery-statements.ts';
import { claimFilter } from '../../src/store/sql/delivery/claims.ts';
import { openTestStore, type TestStore } from '../helpers/stores.ts';

// Plans of the hot statements on PostgreSQL, checked with EXPLAIN on a table with a backlog: a
// plan that reads every pending row per batch works in tests and collapses under load.
describe('PostgreSQL plans of the delivery hot path', () => {
  let t: TestStore;
  let client: pg.Client;
  before(async () => {
    t = await openTestStore('postgres');
    client = new pg.Client({ connectionString: t.databaseUrl });
    await client.connect();
    // 3,000 pending deliveries (the backlog) among 30,000.
    await client.query(`INSERT INTO deliveries (id, project_id, message_id, endpoint_id, status, next_attempt_at_ms, created_at_ms, updated_at_ms)
      SELECT 'dlv_' || g, 'prj_1', 'msg_' || g, 'ep_1', CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'succeeded' END, g, g, g
      FROM generate_series(1, 30000) g`);
  });
  after(async () => {
    await client.end();
    await t.cleanup();
  });

  // What the hot path's connections start with (Db.withSettings), set here for one transaction.
  const HOT_PATH = `SELECT ${Object.entries(PG_HOT_PATH_SETTINGS)
    .map(([name, value]) => `set_config('${name}', '${value}', true)`)
    .join(', ')}`;
  const toPg = (sql: string): string => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  /** A batch of 30 outcomes of backlog rows, as the outcome statement's JSON parameter. */
  const outcomes = pgOutcomeRows(
    Array.from({ length: 30 }, (_, i) => [
      'succeeded',
      1,
      1,
      1,
      1,
      1,
      1,
      200,
      null,
      `dlv_${(i + 1) * 10}`,
      'pending',
    ]),
  );
  async function planOf(settings: string, sql: string, params: unknown[]): Promise<string> {
    await client.query('BEGIN');
    try {
      await client.query(settings);
      const { rows } = await client.query(`EXPLAIN ${toPg(sql)}`, params);
      return rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    } finally {
      await client.query('ROLLBACK');
    }
  }

  it('gives claimed deliveries back by primary key, also before the table has statistics', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => `dlv_${(i + 1) * 10}`);
    // Without the settings, and without statistics, the old release was a BitmapAnd over all of
    // deliveries_due.
    const plan = await planOf(HOT_PATH, PG_RELEASE_DELIVERIES, [5, pgReleaseRows(ids)]);
    assert.match(plan, /Index Scan using deliveries_pkey on deliveries/, plan);
    assert.doesNotMatch(plan, /deliveries_due|Seq Scan on deliveries|Bitmap/, plan);
  });
  it('records a batch of outcomes by primary-key lookups, not by reading the pending backlog', async () => {
    await client.query('ANALYZE deliveries');
    const plan = await planOf(HOT_PATH, PG_COMPLETE_DELIVERIES, ['[]', outcomes]);
    assert.match(plan, /Index Scan using deliveries_pkey on deliveries/, plan);
    assert.doesNotMatch(plan, /deliveries_due|Seq Scan on deliveries|Hash Join|Bitmap/, plan);
  });
  it('keeps the primary-key lookups once the outcome statement is prepared and planned generically', async () => {
    // The driver prepares a statement that keeps coming back (postgres-db.ts); after five runs
    // PostgreSQL may switch a prepared statement to one generic plan, made without the values.
    // plan_cache_mode forces that plan here, so it is the one checked.
    await client.query('BEGIN');
    try {
      await client.query(HOT_PATH);
      await client.query("SET LOCAL plan_cache_mode = 'force_generic_plan'");
      await client.query({
        name: 'complete_generic',
        text: toPg(PG_COMPLETE_DELIVERIES),
        values: ['[]', outcomes],
      });
      const { rows } = await client.query(`EXPLAIN EXECUTE complete_generic('[]', '${outcomes}')`);
      const plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
      assert.match(plan, /Index Scan using deliveries_pkey on deliveries/, plan);
      assert.doesNotMatch(plan, /deliveries_due|Seq Scan on deliveries|Hash Join|Bitmap/, plan);
    } finally {
      await client.query('ROLLBACK');
    }
  });
  it('keeps the release on primary-key lookups when a backlog came after statistics of an empty queue', async () => {
    // The common case: statistics taken while the worker had drained the queue, then a burst.
    // With `status = 'pending'` in its text the release then read the whole pending backlog
    // through deliveries_due (in a benchmark run: 2,800 rows read for 16 ids, 11-17 ms).
    const ids = Array.from({ length: 16 }, (_, i) => `dlv_${(i + 1) * 10}`);
    const params = [5, pgReleaseRows(ids)];
    await client.query('BEGIN');
    try {
      await client.query("UPDATE deliveries SET status = 'succeeded' WHERE status = 'pending'");
      await client.query('ANALYZE deliveries');
      await client.query(
        "UPDATE deliveries SET status = 'pending' WHERE CAST(substr(id, 5) AS integer) % 10 = 0",
      );
      await client.query(HOT_PATH);
      for (const mode of ['force_custom_plan', 'force_generic_plan']) {
        await client.query(`SET LOCAL plan_cache_mode = '${mode}'`);
        await client.query({ name: `release_${mode}`, text: toPg(PG_RELEASE_DELIVERIES), values: params });
        const { rows } = await client.query(
          `EXPLAIN EXECUTE release_${mode}(${params.map((p) => `'${p}'`).join(', ')})`,
        );
        const plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
        assert.match(plan, /Index Scan using deliveries_pkey on deliveries/, `${mode}\n${plan}`);
        assert.doesNotMatch(plan, /deliveries_due|Seq Scan on deliveries|Bitmap/, `${mode}\n${plan}`);
      }
    } finally {
      await client.query('ROLLBACK');
      // ANALYZE's table size survives the rollback: statistics of the backlog again.
      await client.query('ANALYZE deliveries');
    }
  });
  /** The claim as the worker runs it, and a claim of 100 due rows at 10,000,000. */
  const CLAIM_SQL = toPg(pgClaimSql(claimFilter(PG_NOW_MS, '?', '?', true)));
  // now (due, lease), excluded endpoint, excluded project, lease holder; window, endpoint limits,
  // default, project limits, limit, lease end
  const CLAIM_PARAMS = [10_000_000, 10_000_000, '', '', 'holder-1', 100, '{}', 100, '{}', 100, 20_000_000];
  it('claims the oldest due rows off deliveries_due, also with the prepared claim planned generically', async () => {
    await client.query('BEGIN');
    try {
      await client.query(HOT_PATH);
      await client.query("SET LOCAL plan_cache_mode = 'force_generic_plan'");
      await client.query({ name: 'claim_generic', text: CLAIM_SQL, values: CLAIM_PARAMS });
      const literals = CLAIM_PARAMS.map((p) => (typeof p === 'number' ? String(p) : `'${p}'`)).join(', ');
      const { rows } = await client.query(`EXPLAIN EXECUTE claim_generic(${literals})`);
      const plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
      assert.match(plan, /Index Scan using deliveries_due on deliveries d/, plan);
      assert.doesNotMatch(plan, /Seq Scan on deliveries|Sort Key: d\.next_attempt_at_ms|Bitmap/, plan);
    } finally {
      await client.query('ROLLBACK');
    }
  });
  it('leases claimed rows with HOT updates: no index entry is written for a claim', async () => {
    // A claim writes only leased_until_ms, which no index holds, and the table leaves room on each
    // page for the new row versions (fillfactor), so every claimed row is updated in place. Before
    // the lease had a column of its own, a claim moved next_attempt_at_ms and wrote four index
    // entries per row.
    await client.query('BEGIN');
    try {
      await client.query(HOT_PATH);
      // This backend's counts not yet flushed to the statistics (earlier tests' included): the
      // claim's are the difference.
      const counts = async () =>
        (
          await client.query(`SELECT pg_stat_get_xact_tuples_updated('deliveries'::regclass)::int AS updated,
              pg_stat_get_xact_tuples_hot_updated('deliveries'::regclass)::int AS hot`)
        ).rows[0] as { updated: number; hot: number };
      const before = await counts();
      await client.query(CLAIM_SQL, CLAIM_PARAMS);
      const after = await counts();
      assert.deepEqual(
        { updated: after.updated - before.updated, hot: after.hot - before.hot },
        { updated: 100, hot: 100 },
      );
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
