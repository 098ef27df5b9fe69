import pg from 'pg';
import { StoreUnavailableError } from '../../domain/errors.ts';
import type { Db } from '../sql/db.ts';
import type { SqlExecutor, SqlValue } from '../sql/sql-executor.ts';

const INT8_OID = 20;

/**
 * A statement as PostgreSQL gets it: `?` rewritten to `$n`, and a name once the same text has run
 * PREPARE_AFTER times. A named statement is parsed and planned once per connection and then only
 * bound and executed: the hot paths' statements (publish, claim, outcome) spent ~8 µs a delivery
 * in the planner alone (pg_stat_statements, docs/benchmarks.md). Texts with more parameters than
 * MAX_PREPARED_PARAMS stay unnamed, and so does everything past MAX_PREPARED distinct texts, so a
 * connection holds a bounded set of statements. The limit admits the inbound event insert of up to
 * 16 rows (19 values a row; inbound-queries.ts keeps its statements that size): one text per row
 * count, 1.1 MB of cached plans a connection for all sixteen, measured with
 * pg_backend_memory_contexts. Parsing and planning a multi-row VALUES cost PostgreSQL more than
 * running it.
 *
 * A migration run by another process (a rolling deploy) can change what a prepared statement
 * returns; PostgreSQL then refuses it ("cached plan must not change result type") on every
 * connection that prepared it. Texts that select `*` are never prepared (an added column changes
 * their result), and a statement refused that way is unnamed from then on and, outside a
 * transaction, run again at once (see `query`).
 */
interface PgStatement {
  text: string;
  name: string | undefined;
  runs: number;
}
const PREPARE_AFTER = 3;
const MAX_PREPARED = 200;
const MAX_PREPARED_PARAMS = 16 * 19;
const SELECTS_STAR = /(SELECT|RETURNING|\.)\s*\*/i;
const NEVER = Number.NEGATIVE_INFINITY;
const statements = new Map<string, PgStatement>();
let prepared = 0;

function toPg(sql: string, params: readonly SqlValue[]): PgStatement {
  let st = statements.get(sql);
  if (st === undefined) {
    let n = 0;
    st = { text: sql.replace(/\?/g, () => `$${++n}`), name: undefined, runs: 0 };
    if (statements.size < 10_000) statements.set(sql, st);
  }
  if (
    st.name === undefined &&
    ++st.runs >= PREPARE_AFTER &&
    !SELECTS_STAR.test(st.text) &&
    prepared < MAX_PREPARED &&
    params.length <= MAX_PREPARED_PARAMS
  ) {
    st.name = `hy_${++prepared}`;
  }
  return st;
}

// Node errors that mean "the server is not reachable", and SQLSTATE classes that mean the same.
const UNAVAILABLE_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
function translate(err: unknown): unknown {
  const code = (err as { code?: string }).code ?? '';
  if (
    UNAVAILABLE_NODE.has(code) ||
    code.startsWith('08') || // connection exception
    code.startsWith('53') || // insufficient resources
    code.startsWith('57P') || // operator intervention (admin shutdown, cannot connect now)
    /Connection terminated|timeout exceeded when trying to connect|Client was closed|Cannot use a pool after calling end/i.test(
      (err as Error).message ?? '',
    )
  ) {
    return new StoreUnavailableError(`PostgreSQL cannot commit: ${(err as Error).message}`, { cause: err });
  }
  return err;
}

/** SQLSTATE 0A000 with this text: a prepared statement's result changed under it. */
const RESULT_CHANGED = /cached plan must not change result type/;

/**
 * Runs a statement. A prepared one that PostgreSQL refuses because its result changed is unnamed
 * for good; on the pool (not in a transaction, which the error has aborted) it runs again at once.
 */
async function query(client: pg.Pool | pg.PoolClient, sql: string, params: readonly SqlValue[]) {
  const st = toPg(sql, params);
  const name = st.name;
  const values = params as unknown[];
  try {
    return await client.query({ text: st.text, name, values });
  } catch (err) {
    if (name === undefined || !RESULT_CHANGED.test((err as Error).message ?? '')) throw translate(err);
    st.name = undefined;
    st.runs = NEVER;
    if (!(client instanceof pg.Pool)) throw translate(err);
    try {
      return await client.query({ text: st.text, values });
    } catch (again) {
      throw translate(again);
    }
  }
}

function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    dialect: 'postgres',
    async all<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await query(client, sql, params)).rows as T[];
    },
    async get<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await query(client, sql, params)).rows[0] as T | undefined;
    },
    async run(sql: string, params: readonly SqlValue[] = []) {
      return { changes: (await query(client, sql, params)).rowCount ?? 0 };
    },
  };
}

/**
 * Each new connection asks its backend to hand the pages it writes out to the kernel every 256
 * kB (sync_file_range), unless the server's configuration already sets backend_flush_after.
 * Inbound events outgrow shared_buffers within seconds, so backends evict dirty pages all the
 * time; with PostgreSQL's default (0) the kernel keeps them until the next checkpoint's fsync
 * flushes them in one burst, and every commit's WAL flush queues behind it. Measured here
 * (ingest on embedded PostgreSQL, eight 8 s runs back to back): with the default, three runs had
 * a p98 of 28-58 ms (in shorter sequences that logged checkpoints, such runs were the ones a
 * checkpoint fell in); with 256 kB, no run's p98 was over 7.9 ms. One statement, once per
 * connection; a server that refuses it keeps its own setting.
 */
const CONNECT_SQL =
  "SELECT set_config('backend_flush_after', '256kB', false) WHERE current_setting('backend_flush_after') = '0'";

/** pg-pool's onConnect: runs, and is awaited, before a new connection's first use. */
async function onConnect(client: pg.ClientBase): Promise<void> {
  await client.query(CONNECT_SQL).catch(() => {});
}

/** Connections a `withSettings` pool opens at most: its statements are the hot path's few. */
const SETTINGS_POOL_SIZE = 4;
const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/;
const SETTING_VALUE = /^[A-Za-z0-9_.-]+$/;

export class PostgresDb implements Db {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly direct: SqlExecutor;
  private readonly types: pg.CustomTypesConfig;
  private readonly url: string;
  private readonly settingsPools = new Map<string, { pool: pg.Pool; executor: SqlExecutor }>();
  private listener: pg.Client | undefined;
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();

  constructor(url: string, options: { poolSize?: number } = {}) {
    const types = {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as never,
    };
    this.types = types;
    this.url = url;
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      types,
      connectionTimeoutMillis: 5000,
      onConnect,
    });
    // An idle client losing its connection must not crash the process; the next query reports it.
    this.pool.on('error', () => {});
    this.direct = executor(this.pool);
  }

  withSettings(settings: Readonly<Record<string, string>>): SqlExecutor {
    const entries = Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [name, value] of entries) {
      // They go into the startup packet's options, where a space would start another setting.
      if (!SETTING_NAME.test(name) || !SETTING_VALUE.test(value))
        throw new Error(`invalid PostgreSQL setting ${name}=${value}`);
    }
    const key = entries.map(([name, value]) => `-c ${name}=${value}`).join(' ');
    let entry = this.settingsPools.get(key);
    if (!entry) {
      const pool = new pg.Pool({
        connectionString: this.url,
        max: SETTINGS_POOL_SIZE,
        types: this.types,
        connectionTimeoutMillis: 5000,
        options: key,
        onConnect,
      });
      pool.on('error', () => {});
      entry = { pool, executor: executor(pool) };
      this.settingsPools.set(key, entry);
    }
    return entry.executor;
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.direct.all<T>(sql, params);
  }
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.direct.get<T>(sql, params);
  }
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translate(err);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw translate(err);
    } finally {
      client.release(broken);
    }
  }

  async exec(script: string): Promise<void> {
    try {
      await this.pool.query(script);
    } catch (err) {
      throw translate(err);
    }
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
    if (!this.listener) {
      const client = new pg.Client({
        connectionString: (this.pool.options as { connectionString?: string }).connectionString,
      });
      client.on('notification', (msg) => {
        for (const h of this.handlers.get(msg.channel) ?? []) h(msg.payload ?? '');
      });
      client.on('error', () => {});
      await client.connect();
      this.listener = client;
    }
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await this.listener.query(`LISTEN ${channel}`);
    }
    set.add(onNotify);
    return async () => {
      set.delete(onNotify);
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.run('SELECT pg_notify(?, ?)', [channel, payload]);
  }

  private closed = false;
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await listener.end().catch(() => {});
    for (const { pool } of this.settingsPools.values()) await pool.end();
    await this.pool.end();
  }
}
