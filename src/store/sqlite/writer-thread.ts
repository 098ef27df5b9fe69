import { Worker } from 'node:worker_threads';
import { StoreUnavailableError } from '../../domain/errors.ts';
import type { OffloadInput, OffloadJobName, OffloadOutput } from '../sql/offload-jobs.ts';
import { WRITER_THREAD_HOLDER, type WriteLock } from './write-lock.ts';

/** What the main side sends; see writer-thread-worker.ts for the other half. */
export type WriterRequest = { id: number; job: OffloadJobName; input: unknown } | { close: true };
export type WriterReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string; unavailable: boolean };

const RESTART_DELAY_MS = 1000;
const BOOT = new URL('./writer-thread-boot.mjs', import.meta.url);

interface Waiter {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * A second SQLite connection on a worker thread for the hot path's write batches, so the insert
 * of a batch (row encoding, B-tree work, WAL writes, checkpoints, the fsync) runs beside the event
 * loop: the event loop's share per request is the HTTP work and a structured clone, and a slow
 * disk stalls the writer, not the API or the delivery worker.
 *
 * The writer commits with synchronous=FULL: its COMMIT fsyncs the WAL before it answers, so a
 * resolved job is durable. On its own thread the blocking fsync costs the event loop nothing,
 * and it measured faster than handing the flush to yet another thread (see docs/benchmarks.md).
 *
 * If the thread dies, waiting jobs fail as StoreUnavailableError (the ingest answers 503) and the
 * next job, a second later or after, starts a new thread.
 */
export class WriterThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private closed = false;
  private notBeforeMs = 0;
  private exited: Promise<void> = Promise.resolve();

  /**
   * `autocheckpoint`: the thread's connection's `wal_autocheckpoint` (SQLite's default when unset);
   * `checkpointerControl`: a checkpointer's control buffer, told of every commit (checkpointer.ts).
   */
  constructor(
    private readonly options: {
      file: string;
      lock: WriteLock;
      autocheckpoint?: number;
      checkpointerControl?: SharedArrayBuffer;
    },
  ) {}

  /** Starts the thread now rather than at the first job (the first job then waits for nothing). */
  warm(): void {
    if (!this.closed && !this.worker) this.spawn();
  }

  /** `transfer`: buffers of the input that move to the thread rather than being copied. */
  run<K extends OffloadJobName>(
    job: K,
    input: OffloadInput<K>,
    transfer?: ArrayBuffer[],
  ): Promise<OffloadOutput<K>> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('SQLite database is closed'));
    if (!this.worker) {
      if (Date.now() < this.notBeforeMs) {
        return Promise.reject(new StoreUnavailableError('the SQLite writer thread is restarting'));
      }
      this.spawn();
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (this.waiting.size === 1) this.worker?.ref();
      try {
        this.worker?.postMessage({ id, job, input } satisfies WriterRequest, transfer);
      } catch (err) {
        // Input that cannot be cloned (or a transfer list that cannot move) never reached the thread.
        this.waiting.delete(id);
        if (this.waiting.size === 0) this.worker?.unref();
        reject(err);
      }
    });
  }

  private spawn(): void {
    const worker = new Worker(BOOT, {
      workerData: {
        file: this.options.file,
        lockBuffer: this.options.lock.buffer,
        autocheckpoint: this.options.autocheckpoint,
        checkpointerControl: this.options.checkpointerControl,
      },
      // Only what the thread needs: the main thread's flags (test runner, profilers) stay there.
      execArgv: [],
    });
    // An idle writer does not keep the process alive; one with jobs in flight does.
    worker.unref();
    worker.on('message', (reply: WriterReply) => this.settle(reply));
    worker.on('error', (err) => this.gone(worker, err));
    this.exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.gone(worker, new Error(`the SQLite writer thread exited (code ${code})`));
        resolve();
      }),
    );
    this.worker = worker;
  }

  private settle(reply: WriterReply): void {
    const waiter = this.waiting.get(reply.id);
    if (!waiter) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (reply.ok) waiter.resolve(reply.value);
    else
      waiter.reject(reply.unavailable ? new StoreUnavailableError(reply.message) : new Error(reply.message));
  }

  private gone(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.notBeforeMs = Date.now() + RESTART_DELAY_MS;
    // A thread that died inside a transaction held the write lock; SQLite rolled the
    // transaction back with the connection, so the lock is only ours to take back.
    this.options.lock.release(WRITER_THREAD_HOLDER);
    const failure = new StoreUnavailableError(`SQLite writer thread failed: ${err.message}`, { cause: err });
    for (const waiter of this.waiting.values()) waiter.reject(failure);
    this.waiting.clear();
    if (!this.closed) void worker.terminate();
  }

  /** Lets queued jobs finish (they are answered first), then stops the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    worker.ref();
    worker.postMessage({ close: true } satisfies WriterRequest);
    await this.exited;
  }
}
