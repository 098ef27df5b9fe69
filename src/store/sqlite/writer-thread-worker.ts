// The SQLite writer thread (see writer-thread.ts): one connection with synchronous=FULL; jobs run
// one at a time in the order they arrive, each in one transaction under the cross-thread write
// lock, and each is answered after its COMMIT (which fsyncs the WAL) returns.
import { parentPort, workerData } from 'node:worker_threads';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { OFFLOAD_JOBS, type OffloadJobName } from '../sql/offload-jobs.ts';
import { SqliteConnection } from './connection.ts';
import { WRITER_THREAD_HOLDER, WriteLock } from './write-lock.ts';
import type { WriterReply, WriterRequest } from './writer-thread.ts';

const { file, lockBuffer } = workerData as { file: string; lockBuffer: SharedArrayBuffer };
const port = parentPort;
if (!port) throw new Error('writer-thread-worker runs as a worker thread');

const LOCK_TIMEOUT_MS = 5000;
const connection = new SqliteConnection(file, { synchronous: 'FULL', setWalMode: false });
const lock = new WriteLock(lockBuffer);

function runJob(job: OffloadJobName, input: unknown): unknown {
  if (!lock.acquireSync(WRITER_THREAD_HOLDER, LOCK_TIMEOUT_MS)) {
    throw new StoreUnavailableError(`SQLite write lock not free after ${LOCK_TIMEOUT_MS} ms`);
  }
  try {
    const fn = OFFLOAD_JOBS[job] as (tx: SqliteConnection, input: unknown) => unknown;
    return connection.transactionSync(() => fn(connection, input));
  } finally {
    lock.release(WRITER_THREAD_HOLDER);
  }
}

port.on('message', (message: WriterRequest) => {
  if ('close' in message) {
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
