import path from 'node:path';
import { ensureDataDir } from '../../security/data-dir.ts';
import type { Db } from '../sql/db.ts';
import type { OffloadInput, OffloadJobName, OffloadOutput } from '../sql/offload-jobs.ts';
import type { SqlExecutor, SqlValue, SyncExecutor } from '../sql/sql-executor.ts';
import {
  BACKSTOP_AUTOCHECKPOINT_FRAMES,
  Checkpointer,
  type CheckpointerSettings,
  noteCommit,
} from './checkpointer.ts';
import { SqliteConnection } from './connection.ts';
import { WalSync } from './wal-sync.ts';
import { EVENT_LOOP_HOLDER, WriteLock } from './write-lock.ts';
import { WriterThread } from './writer-thread.ts';

export interface SqliteDbOptions {
  /**
   * `async-fsync` (default) commits with synchronous=NORMAL and fsyncs the WAL on the thread pool
   * before a write resolves (see wal-sync.ts); `full` uses synchronous=FULL (fsync inside COMMIT).
   * Both give the same guarantee for acknowledged writes.
   */
  durability?: 'async-fsync' | 'full';
  /** Runs the hot path's write batches (offload-jobs.ts) on a second connection on a worker thread. */
  writerThread?: boolean;
  /**
   * With the writer thread: checkpoint the WAL on a thread of its own (checkpointer.ts) rather
   * than inside the commits that cross SQLite's threshold. Default true.
   */
  checkpointer?: boolean;
  /** The checkpointer's timing (tests make it eager); defaults in checkpointer.ts. */
  checkpointerSettings?: Partial<CheckpointerSettings>;
}

/**
 * better-sqlite3 behind the async Db seam. SQLite has one writer and this is one connection, so
 * transactions are serialised by an in-process lock: while one is open, other statements wait,
 * which keeps an `await` inside a transaction from letting unrelated statements join it. With the
 * writer thread, writes also take the cross-thread write lock (write-lock.ts).
 */
export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private readonly conn: SqliteConnection;
  private locked = false;
  private readonly waiters: Array<() => void> = [];
  private readonly walSync: WalSync | null;
  private readonly writeLock: WriteLock | null;
  private readonly writer: WriterThread | null;
  private readonly checkpointer: Checkpointer | null;
  /** The checkpointer's control cells, told of every commit here. */
  private readonly commitCells: Int32Array | null;
  readonly offload?: <K extends OffloadJobName>(
    job: K,
    input: OffloadInput<K>,
    transfer?: ArrayBuffer[],
  ) => Promise<OffloadOutput<K>>;

  constructor(file: string, options: SqliteDbOptions = {}) {
    if (file !== ':memory:') ensureDataDir(path.dirname(file));
    const asyncFsync = (options.durability ?? 'async-fsync') === 'async-fsync' && file !== ':memory:';
    const synchronous = asyncFsync ? 'NORMAL' : 'FULL';
    this.conn = new SqliteConnection(file, { synchronous, setWalMode: true });
    this.walSync = asyncFsync ? new WalSync(`${file}-wal`) : null;
    if (options.writerThread && file !== ':memory:') {
      const lock = new WriteLock();
      const checkpointer =
        (options.checkpointer ?? true)
          ? new Checkpointer({ file, lock, settings: options.checkpointerSettings })
          : null;
      const autocheckpoint = checkpointer ? BACKSTOP_AUTOCHECKPOINT_FRAMES : undefined;
      if (autocheckpoint !== undefined) this.conn.db.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
      const writer = new WriterThread({
        file,
        lock,
        autocheckpoint,
        checkpointerControl: checkpointer?.control,
      });
      writer.warm();
      this.writeLock = lock;
      this.writer = writer;
      this.checkpointer = checkpointer;
      this.commitCells = checkpointer ? new Int32Array(checkpointer.control) : null;
      this.offload = (job, input, transfer) => writer.run(job, input, transfer);
    } else {
      this.writeLock = null;
      this.writer = null;
      this.checkpointer = null;
      this.commitCells = null;
    }
  }

  /** Resolves once the checkpointer thread runs (at once without one); its start takes a moment. */
  checkpointerReady(): Promise<void> {
    return this.checkpointer?.ready ?? Promise.resolve();
  }

  /** Waits for the last commits to be on disk (no-op with synchronous=FULL, where COMMIT did it). */
  private durable(): Promise<void> {
    return this.walSync ? this.walSync.sync() : Promise.resolve();
  }

  private readonly direct: SqlExecutor = {
    dialect: 'sqlite',
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => this.conn.all<T>(sql, params),
    get: async <T>(sql: string, params: readonly SqlValue[] = []) => this.conn.all<T>(sql, params)[0],
    run: async (sql: string, params: readonly SqlValue[] = []) => this.conn.run(sql, params),
  };

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

  /** A read, or a write under both locks; a write resolves once it is durable. */
  private async statement<T>(sql: string, fn: () => T): Promise<T> {
    if (!this.conn.isWrite(sql)) {
      if (!this.locked) return fn();
      await this.acquire();
      try {
        return fn();
      } finally {
        this.release();
      }
    }
    return this.write(fn);
  }

  /**
   * Runs `body` between the locks: the in-process one, then the cross-thread one. Both are
   * released before the fsync wait, so the next write commits while this one's WAL flush runs.
   */
  private async write<T>(body: () => T | Promise<T>): Promise<T> {
    await this.acquire();
    let result: T;
    try {
      if (this.writeLock) await this.writeLock.acquire(EVENT_LOOP_HOLDER);
      try {
        result = await body();
      } finally {
        this.writeLock?.release(EVENT_LOOP_HOLDER);
      }
      if (this.commitCells) noteCommit(this.commitCells);
    } finally {
      this.release();
    }
    await this.durable();
    return result;
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.statement(sql, () => this.conn.all<T>(sql, params));
  }
  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }
  run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.statement(sql, () => this.conn.run(sql, params));
  }

  /** BEGIN IMMEDIATE … COMMIT under the write locks. */
  private writeTransaction<T>(body: () => T | Promise<T>): Promise<T> {
    return this.write(async () => {
      this.conn.begin();
      try {
        const result = await body();
        this.conn.commit();
        return result;
      } catch (err) {
        this.conn.rollback();
        throw err;
      }
    });
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.writeTransaction(() => fn(this.direct));
  }

  transactionSync<T>(fn: (tx: SyncExecutor) => T): Promise<T> {
    return this.writeTransaction(() => fn(this.conn));
  }

  exec(script: string): Promise<void> {
    return this.write(() => this.conn.exec(script));
  }

  private closed = false;
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer?.close();
    await this.checkpointer?.close();
    // Waits for an open transaction to end; the lock is then kept so later calls fail fast below.
    await this.acquire();
    this.conn.close();
    this.walSync?.close();
    this.release();
  }
}
