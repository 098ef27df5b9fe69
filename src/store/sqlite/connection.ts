import type BetterSqlite3 from 'better-sqlite3';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { createPrivateFile } from '../../security/data-dir.ts';
import type { SqlValue, SyncExecutor } from '../sql/sql-executor.ts';
import Database from './driver.ts';

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/**
 * The page size of a database this connection creates (an existing file keeps its own). An
 * inbound event row with a 1 KiB body is ~1.5 KB: two fit a 4 KiB page (SQLite's default) with a
 * quarter of it left empty, five fit 8 KiB. The larger page cut the WAL and checkpoint bytes per
 * event and the writer thread's CPU (docs/benchmarks.md has the figures).
 */
export const NEW_DATABASE_PAGE_SIZE = 8192;

/**
 * One better-sqlite3 connection with its prepared-statement cache and SQLite's errors translated
 * (a full disk, an I/O error or a lock held too long become StoreUnavailableError, so callers
 * answer 503 instead of 500). Used by the event loop's SqliteDb and by the writer thread.
 */
export class SqliteConnection implements SyncExecutor {
  readonly db: BetterSqlite3.Database;
  private readonly statements = new Map<string, Statement>();

  /** `synchronous` NORMAL leaves the WAL fsync to the caller (see wal-sync.ts); FULL fsyncs in COMMIT. */
  constructor(file: string, options: { synchronous: 'NORMAL' | 'FULL'; setWalMode: boolean }) {
    // Created 0600 before SQLite opens it: SQLite would make it 0644 under the usual umask, and
    // gives the -wal and -shm files the database file's mode.
    if (file !== ':memory:' && file !== '') createPrivateFile(file);
    this.db = new Database(file);
    if (options.setWalMode) {
      // A new database's page size: it takes effect only while the file is empty, so it comes
      // before WAL mode writes the header (an existing file keeps its own).
      this.db.pragma(`page_size = ${NEW_DATABASE_PAGE_SIZE}`);
      this.db.pragma('journal_mode = WAL');
    }
    this.db.pragma(`synchronous = ${options.synchronous}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
  }

  prepare(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** True when the statement writes (prepared, and cached, to ask SQLite). */
  isWrite(sql: string): boolean {
    try {
      return !this.prepare(sql).readonly;
    } catch {
      return false;
    }
  }

  *iterate<T>(sql: string, params: readonly SqlValue[] = []): Generator<T, void, undefined> {
    let rows: IterableIterator<unknown>;
    try {
      rows = this.prepare(sql).iterate(...params);
    } catch (err) {
      throw translateSqliteError(err);
    }
    try {
      yield* rows as IterableIterator<T>;
    } catch (err) {
      throw translateSqliteError(err);
    }
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): T[] {
    try {
      const stmt = this.prepare(sql);
      if (stmt.reader) return stmt.all(...params) as T[];
      stmt.run(...params);
      return [];
    } catch (err) {
      throw translateSqliteError(err);
    }
  }

  run(sql: string, params: readonly SqlValue[] = []): { changes: number } {
    try {
      const stmt = this.prepare(sql);
      if (stmt.reader) return { changes: stmt.all(...params).length };
      return { changes: stmt.run(...params).changes };
    } catch (err) {
      throw translateSqliteError(err);
    }
  }

  exec(script: string): void {
    try {
      this.db.exec(script);
    } catch (err) {
      throw translateSqliteError(err);
    }
  }

  begin(): void {
    this.run('BEGIN IMMEDIATE');
  }

  commit(): void {
    this.run('COMMIT');
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  /** One write transaction that never yields (the writer thread's batches). */
  transactionSync<T>(body: () => T): T {
    this.begin();
    try {
      const result = body();
      this.commit();
      return result;
    } catch (err) {
      this.rollback();
      throw err;
    }
  }

  close(): void {
    this.statements.clear();
    this.db.close();
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

function translateSqliteError(err: unknown): unknown {
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
