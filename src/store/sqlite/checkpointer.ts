import { Worker } from 'node:worker_threads';
import type { WriteLock } from './write-lock.ts';

const BOOT = new URL('./writer-thread-boot.mjs', import.meta.url);

/** Cells of the control buffer: set to stop the thread; counts the writers' commits (they wake it). */
export const STOP = 0;
export const COMMITS = 1;

/**
 * The WAL frames a writer's own checkpoint waits for while a checkpointer runs: a backstop should
 * the checkpointer thread fall behind or die (SQLite's default, 1,000, is what a writer uses
 * without one).
 */
export const BACKSTOP_AUTOCHECKPOINT_FRAMES = 8192;

export interface CheckpointerSettings {
  /** Sleep between passes while frames keep arriving. */
  activeIntervalMs: number;
  /** The longest sleep while nothing is written (a commit in this process ends it at once). */
  idleIntervalMs: number;
  /** WAL length (frames) from which a pass lets the next writer restart the WAL. */
  restartFrames: number;
  /** The longest the restarting pass waits for the write lock before it leaves it for the next. */
  lockWaitMs: number;
}

export const DEFAULT_CHECKPOINTER_SETTINGS: CheckpointerSettings = {
  activeIntervalMs: 10,
  idleIntervalMs: 1000,
  restartFrames: 1024,
  lockWaitMs: 50,
};

/**
 * Checkpoints the WAL on a thread of its own. Without it, SQLite checkpoints inside the COMMIT
 * that crosses 1,000 WAL frames: that commit copies about 8 MB into the database file and fsyncs
 * it before it returns, and every request of its batch waits (under ingest load, several times a
 * second, and the tail latency it makes). Here, passes copy the frames beside the writers, and the
 * writers wait only for the short pass that lets the WAL restart (see checkpointer-worker.ts);
 * their own autocheckpoint is raised to a backstop.
 */
export class Checkpointer {
  /** The control cells (STOP, COMMITS), shared with the threads that commit. */
  readonly control = new SharedArrayBuffer(8);
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  /** Resolves once the thread has its connection and runs passes (or has exited). */
  readonly ready: Promise<void>;

  constructor(options: { file: string; lock: WriteLock; settings?: Partial<CheckpointerSettings> }) {
    this.worker = new Worker(BOOT, {
      workerData: {
        entry: './checkpointer-worker.ts',
        file: options.file,
        lockBuffer: options.lock.buffer,
        controlBuffer: this.control,
        settings: { ...DEFAULT_CHECKPOINTER_SETTINGS, ...options.settings },
      },
      execArgv: [],
    });
    // It never keeps the process alive by itself.
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.ready = Promise.race([
      new Promise<void>((resolve) => this.worker.once('message', () => resolve())),
      this.exited,
    ]);
    // A checkpointer that fails leaves the writers' backstop in charge; nothing to do here.
    this.worker.on('error', () => {});
  }

  /** Stops the thread after its current pass. */
  async close(): Promise<void> {
    const cells = new Int32Array(this.control);
    Atomics.store(cells, STOP, 1);
    Atomics.notify(cells, STOP);
    noteCommit(cells);
    this.worker.ref();
    await this.exited;
  }
}

/**
 * Tells a sleeping checkpointer that a writer committed (`cells`: its control buffer as Int32s).
 * Cheap when it is not asleep waiting for one: no thread waits on the cell then.
 */
export function noteCommit(cells: Int32Array): void {
  Atomics.add(cells, COMMITS, 1);
  Atomics.notify(cells, COMMITS);
}
