import type { EventId } from '../domain/ids.ts';
import type { InboundStore, NewInboundEvent } from '../store/inbound-store.ts';

interface Pending {
  event: NewInboundEvent;
  resolve: (r: { id: EventId; duplicate: boolean }) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: requests that arrive together share one transaction, and each is answered only
 * after that transaction commits. No timer: a batch starts on the next turn of the event loop
 * after a request queues, and whatever queues while `maxInFlight` batches are committing goes
 * into the next one, so batches grow with load and a lone request waits for nothing but its own
 * commit. Two batches in flight keep the store busy while the answers of the previous batch are
 * written (the SQLite thread commits them in order; PostgreSQL runs them on two connections).
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly store: Pick<InboundStore, 'insertInboundEvents'>,
    private readonly options: {
      maxBatch: number;
      maxInFlight?: number;
      onCommitted?: (count: number) => void;
    },
  ) {}

  /** Queues one event. Its body belongs to the store from here on: read it no more (it may move). */
  add(event: NewInboundEvent): Promise<{ id: EventId; duplicate: boolean }> {
    if (this.closed) return Promise.reject(new Error('ingest is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= (this.options.maxInFlight ?? 2)) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.queue.length > 0 && this.inFlight < (this.options.maxInFlight ?? 2)) {
        void this.commit(this.queue.splice(0, this.options.maxBatch));
      }
    });
  }

  private async commit(batch: Pending[]): Promise<void> {
    this.inFlight++;
    try {
      // The handlers read no body once its event is queued here: the store may move them.
      const results = await this.store.insertInboundEvents(
        batch.map((p) => p.event),
        { bodiesMayMove: true },
      );
      batch.forEach((p, i) => {
        const r = results[i];
        if (r) p.resolve(r);
        else p.reject(new Error('store returned fewer results than events'));
      });
      // Only new events the router still has to decide wake it (most are routed at ingest).
      let undecided = 0;
      batch.forEach((p, i) => {
        if (p.event.decided === null && results[i]?.duplicate === false) undecided++;
      });
      if (undecided > 0) this.options.onCommitted?.(undecided);
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
      else if (this.inFlight === 0) for (const done of this.idle.splice(0)) done();
    }
  }

  /** Refuses new events and resolves once everything queued has been committed (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
