import type { OffloadInput, OffloadJobName, OffloadOutput } from './offload-jobs.ts';
import type { SqlExecutor, SyncExecutor } from './sql-executor.ts';

/**
 * The driver seam under the SQL store: everything above it is dialect-agnostic SQL written with
 * `?` placeholders; the PostgreSQL driver rewrites them to `$n`. Only the two files implementing
 * this interface import a database driver.
 */
export interface Db extends SqlExecutor {
  /**
   * Where the driver is synchronous (SQLite), one transaction run without yielding; the returned
   * promise still resolves only once the commit is durable. Absent on PostgreSQL.
   */
  transactionSync?<T>(fn: (tx: SyncExecutor) => T): Promise<T>;
  /**
   * Runs a named write job (offload-jobs.ts) in one transaction on a thread of its own, where the
   * driver has one (SQLite with its writer thread); resolves once the commit is durable.
   */
  offload?<K extends OffloadJobName>(
    job: K,
    input: OffloadInput<K>,
    /**
     * ArrayBuffers the input owns outright that may move to the other thread instead of being
     * copied; they are unusable (detached) here afterwards.
     */
    transfer?: ArrayBuffer[],
  ): Promise<OffloadOutput<K>>;
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL: statements on connections of their own that start with these settings (names and
   * values as PostgreSQL's `-c`), each statement committed by itself. For hot statements that
   * would otherwise open a transaction only to `SET LOCAL` them: BEGIN, the settings and COMMIT
   * are three round trips. The same settings give the same connections.
   */
  withSettings?(settings: Readonly<Record<string, string>>): SqlExecutor;
  /** Runs a multi-statement script (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
  /** Cross-process wake-ups (PostgreSQL LISTEN/NOTIFY); absent on SQLite (one process). */
  listen?(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  notify?(channel: string, payload: string): Promise<void>;
}
