import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreUnavailableError } from '../../domain/errors.ts';
import type { Db, SqlExecutor, SqlValue, SyncExecutor } from '../sql/db.ts';
import { WalSync } from './wal-sync.ts';

type Statement = Database.Statement<unknown[], unknown>;

/**
 * better-sqlite3 behind the async Db seam. SQLite has one writer and this is one connection, so
 * transactions are serialised by an in-process lock: while one is open, other statements wait,
 * which keeps an `await` inside a transaction from letting unrelated statements join it.
 */
export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Statement>();
  private locked = false;
  private readonly waiters: Array<() => void> = [];

  private readonly walSync: WalSync | null;

  /**
   * Durability: every write's promise resolves only once the write is on disk. `async-fsync`
   * (default) commits with synchronous=NORMAL and fsyncs the WAL on the thread pool before
   * resolving (see wal-sync.ts); `full` uses synchronous=FULL (fsync inside COMMIT, on the
   * event loop). Both give the same guarantee for acknowledged writes.
   */
  constructor(file: string, options: { durability?: 'async-fsync' | 'full' } = {}) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    const asyncFsync = (options.durability ?? 'async-fsync') === 'async-fsync' && file !== ':memory:';
    this.db.pragma(`synchronous = ${asyncFsync ? 'NORMAL' : 'FULL'}`);
    this.walSync = asyncFsync ? new WalSync(`${file}-wal`) : null;
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
  }

  /** Waits for the last commits to be on disk (no-op with synchronous=FULL, where COMMIT did it). */
  private durable(): Promise<void> {
    return this.walSync ? this.walSync.sync() : Promise.resolve();
  }

  private prepare(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private readonly direct: SqlExecutor = {
    dialect: 'sqlite',
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => this.allSync<T>(sql, params),
    get: async <T>(sql: string, params: readonly SqlValue[] = []) => this.allSync<T>(sql, params)[0],
    run: async (sql: string, params: readonly SqlValue[] = []) => this.runSync(sql, params),
  };

  allSync<T>(sql: string, params: readonly SqlValue[]): T[] {
    try {
      const stmt = this.prepare(sql);
      if (stmt.reader) return stmt.all(...params) as T[];
      stmt.run(...params);
      return [];
    } catch (err) {
      throw translate(err);
    }
  }

  runSync(sql: string, params: readonly SqlValue[]): { changes: number } {
    try {
      const stmt = this.prepare(sql);
      if (stmt.reader) return { changes: stmt.all(...params).length };
      return { changes: stmt.run(...params).changes };
    } catch (err) {
      throw translate(err);
    }
  }

  private async acquire(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.locked = false;
  }

  private async outside<T>(fn: () => T): Promise<T> {
    if (!this.locked) return fn();
    await this.acquire();
    try {
      return fn();
    } finally {
      this.release();
    }
  }

  private isWrite(sql: string): boolean {
    try {
      return !this.prepare(sql).readonly;
    } catch {
      return false;
    }
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const rows = await this.outside(() => this.allSync<T>(sql, params));
    if (this.isWrite(sql)) await this.durable();
    return rows;
  }
  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }
  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const result = await this.outside(() => this.runSync(sql, params));
    if (this.isWrite(sql)) await this.durable();
    return result;
  }

  /**
   * BEGIN IMMEDIATE … COMMIT under the in-process lock; the lock is released before the fsync
   * wait, so the next transaction commits while this one's WAL flush runs.
   */
  private async writeTransaction<T>(body: () => T | Promise<T>): Promise<T> {
    await this.acquire();
    let result: T;
    try {
      this.runSync('BEGIN IMMEDIATE', []);
      try {
        result = await body();
        this.runSync('COMMIT', []);
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.release();
    }
    await this.durable();
    return result;
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.writeTransaction(() => fn(this.direct));
  }

  private readonly syncExecutor: SyncExecutor = {
    all: <T>(sql: string, params: readonly SqlValue[] = []) => this.allSync<T>(sql, params),
    run: (sql: string, params: readonly SqlValue[] = []) => this.runSync(sql, params),
  };

  transactionSync<T>(fn: (tx: SyncExecutor) => T): Promise<T> {
    return this.writeTransaction(() => fn(this.syncExecutor));
  }

  async exec(script: string): Promise<void> {
    await this.outside(() => {
      try {
        this.db.exec(script);
      } catch (err) {
        throw translate(err);
      }
    });
    await this.durable();
  }

  private closed = false;
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Waits for an open transaction to end; the lock is then kept so later calls fail fast below.
    await this.acquire();
    this.statements.clear();
    this.db.close();
    this.walSync?.close();
    this.release();
  }
}

const UNAVAILABLE = new Set([
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
]);

function translate(err: unknown): unknown {
  const code = (err as { code?: string }).code ?? '';
  const base = code.split('_').slice(0, 2).join('_');
  if (UNAVAILABLE.has(base) || UNAVAILABLE.has(code)) {
    return new StoreUnavailableError(`SQLite cannot commit: ${(err as Error).message}`, { cause: err });
  }
  if (err instanceof TypeError && /database connection is not open/.test(err.message)) {
    return new StoreUnavailableError('SQLite database is closed', { cause: err });
  }
  return err;
}
