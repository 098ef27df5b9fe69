/**
 * Group commit: writes that arrive together share one store transaction. No timer: the first batch
 * starts on the next turn of the event loop after an item queues, and whatever queues while
 * `maxInFlight` batches are committing goes into a later one, so batches grow with load and a lone
 * write waits for nothing but its own commit.
 *
 * Used by every hot write path (inbound events, published messages, delivery outcomes), so they
 * batch alike. Callers keep what differs: how a batch is committed and answered (`commit` settles
 * every item of its batch itself and does not throw), and whether a small batch waits for company
 * (`gather`).
 *
 * Deliberately not done: no per-item promise here (the outcome writer answers no one; the others
 * carry their own resolve/reject in the item), and no cap on the queue (callers bound what they
 * accept before they add).
 */
export interface GroupCommitOptions<T> {
  /** Writes one batch (never empty) and settles its items; must not throw. */
  commit(batch: T[]): Promise<void>;
  /** Items per batch at most. Default: everything queued. */
  maxBatch?: number;
  /** Batches committing at once. Default 1. */
  maxInFlight?: number;
  /**
   * Each batch after the first in a run waits a turn of the event loop, so the requests read in
   * that turn join it; without it, the next batch is taken as soon as the last one committed.
   */
  yieldBetweenBatches?: boolean;
  /**
   * Called before a batch is taken (with what is queued); a promise returned delays the batch
   * until it settles, so more may join it. null takes the batch at once.
   */
  gather?(queued: readonly T[]): Promise<void> | null;
  /** Called whenever a run of batches ends (the committer may have just gone idle). */
  onSettled?(): void;
}

export class GroupCommit<T> {
  private queue: T[] = [];
  private running = 0;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(private readonly options: GroupCommitOptions<T>) {
    this.maxBatch = options.maxBatch ?? Number.POSITIVE_INFINITY;
    this.maxInFlight = options.maxInFlight ?? 1;
  }

  /** Items queued and not yet taken into a batch. */
  get queued(): number {
    return this.queue.length;
  }

  /** True while anything is queued, about to start or committing. */
  get busy(): boolean {
    return this.scheduled || this.running > 0 || this.queue.length > 0;
  }

  add(item: T): void {
    this.queue.push(item);
    this.schedule();
  }

  /** Resolves once nothing is queued or committing. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.queue.length > 0 && this.running < this.maxInFlight) void this.run();
    });
  }

  private take(): T[] {
    if (this.queue.length <= this.maxBatch) {
      const batch = this.queue;
      this.queue = [];
      return batch;
    }
    return this.queue.splice(0, this.maxBatch);
  }

  private async run(): Promise<void> {
    this.running++;
    try {
      while (this.queue.length > 0) {
        const wait = this.options.gather?.(this.queue) ?? null;
        if (wait !== null) await wait;
        if (this.queue.length === 0) break;
        await this.options.commit(this.take());
        if (this.options.yieldBetweenBatches) break;
      }
    } finally {
      this.running--;
      if (this.queue.length > 0) this.schedule();
      else if (!this.busy) for (const done of this.idleWaiters.splice(0)) done();
      this.options.onSettled?.();
    }
  }
}
