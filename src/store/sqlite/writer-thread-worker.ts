// The SQLite writer thread (see writer-thread.ts): one connection with synchronous=FULL; jobs run
// one at a time in the order they arrive, each in one transaction under the cross-thread write
// lock, and each is answered after its COMMIT (which fsyncs the WAL) returns; jobs in
// LAZY_DURABILITY_JOBS commit without the fsync, and the WAL is flushed within LAZY_FLUSH_MS.

import { parentPort, workerData } from 'node:worker_threads';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { LAZY_DURABILITY_JOBS, OFFLOAD_JOBS, type OffloadJobName } from '../sql/offload-jobs.ts';
import { noteCommit } from './checkpointer.ts';
import { SqliteConnection } from './connection.ts';
import { WalSync } from './wal-sync.ts';
import { WRITER_THREAD_HOLDER, WriteLock } from './write-lock.ts';
import type { WriterReply, WriterRequest } from './writer-thread.ts';

const { file, lockBuffer, autocheckpoint, checkpointerControl } = workerData as {
  file: string;
  lockBuffer: SharedArrayBuffer;
  autocheckpoint?: number;
  checkpointerControl?: SharedArrayBuffer;
};
const checkpointerCells = checkpointerControl ? new Int32Array(checkpointerControl) : null;
const port = parentPort;
if (!port) throw new Error('writer-thread-worker runs as a worker thread');

const LOCK_TIMEOUT_MS = 5000;
/** The longest a lazily durable commit waits for its WAL flush. */
const LAZY_FLUSH_MS = 50;
const connection = new SqliteConnection(file, { synchronous: 'FULL', setWalMode: false });
if (autocheckpoint !== undefined) connection.db.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
const lock = new WriteLock(lockBuffer);
// The flush runs on the thread pool, so this thread goes on writing meanwhile.
const wal = new WalSync(`${file}-wal`);
let flushTimer: NodeJS.Timeout | undefined;

function flushLazyCommits(): void {
  flushTimer = undefined;
  wal.sync().catch(() => {
    // The next durable commit fsyncs the WAL anyway; a failing disk fails that commit loudly.
  });
}

function runJob(job: OffloadJobName, input: unknown): unknown {
  if (!lock.acquireSync(WRITER_THREAD_HOLDER, LOCK_TIMEOUT_MS)) {
    throw new StoreUnavailableError(`SQLite write lock not free after ${LOCK_TIMEOUT_MS} ms`);
  }
  const lazy = LAZY_DURABILITY_JOBS.has(job);
  let committed = false;
  try {
    const fn = OFFLOAD_JOBS[job] as (tx: SqliteConnection, input: unknown) => unknown;
    if (lazy) connection.db.pragma('synchronous = NORMAL');
    const value = connection.transactionSync(() => fn(connection, input));
    committed = true;
    if (checkpointerCells) noteCommit(checkpointerCells);
    return value;
  } finally {
    if (lazy) connection.db.pragma('synchronous = FULL');
    lock.release(WRITER_THREAD_HOLDER);
    if (lazy) {
      if (committed) flushTimer ??= setTimeout(flushLazyCommits, LAZY_FLUSH_MS);
    } else if (committed && flushTimer !== undefined) {
      // This commit's fsync covered every frame before it, the lazy ones included.
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
  }
}

port.on('message', (message: WriterRequest) => {
  if ('close' in message) {
    if (flushTimer !== undefined) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
      try {
        wal.flushNow();
      } catch {
        // Closing the connection below checkpoints or keeps the WAL; nothing more to do here.
      }
    }
    wal.close();
    connection.close();
    port.close();
    return;
  }
  const { id, job, input } = message;
  let reply: WriterReply;
  try {
    reply = { id, ok: true, value: runJob(job, input) };
  } catch (err) {
    reply = {
      id,
      ok: false,
      message: err instanceof Error ? err.message : String(err),
      unavailable: err instanceof StoreUnavailableError,
    };
  }
  port.postMessage(reply);
});
