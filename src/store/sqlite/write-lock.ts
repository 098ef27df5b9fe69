/**
 * SQLite has one writer per database. When two threads of this process write to the same file
 * (the event loop's connection and the writer thread's), they take this lock before BEGIN
 * IMMEDIATE instead of meeting in SQLite's busy handler, which would sleep, and on the event loop
 * a sleep stalls every request. The event loop waits asynchronously (Atomics.waitAsync); the
 * writer thread, which has nothing else to do, blocks (Atomics.wait).
 *
 * The state is one Int32 in shared memory: FREE, or the id of the holder, so that a holder that
 * died (a crashed writer thread) can be told apart and its lock taken back.
 */
const FREE = 0;

export class WriteLock {
  private readonly cell: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }

  tryAcquire(holder: number): boolean {
    return Atomics.compareExchange(this.cell, 0, FREE, holder) === FREE;
  }

  /** Waits without blocking the event loop. */
  async acquire(holder: number): Promise<void> {
    while (!this.tryAcquire(holder)) {
      const current = Atomics.load(this.cell, 0);
      if (current === FREE) continue;
      // Re-checks at least every 50 ms, so a missed notify can delay but never hang a writer.
      const wait = Atomics.waitAsync(this.cell, 0, current, 50);
      if (wait.async) await wait.value;
    }
  }

  /** Blocks the calling thread (never call it on the event loop), up to `timeoutMs`. */
  acquireSync(holder: number, timeoutMs: number): boolean {
    const deadline = Date.now() + timeoutMs;
    while (!this.tryAcquire(holder)) {
      const current = Atomics.load(this.cell, 0);
      if (current === FREE) continue;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.cell, 0, current, Math.min(left, 50));
    }
    return true;
  }

  /** Frees the lock if `holder` has it (also how a dead holder's lock is taken back). */
  release(holder: number): void {
    if (Atomics.compareExchange(this.cell, 0, holder, FREE) === holder) Atomics.notify(this.cell, 0);
  }
}

export const EVENT_LOOP_HOLDER = 1;
export const WRITER_THREAD_HOLDER = 2;
export const CHECKPOINTER_HOLDER = 3;
