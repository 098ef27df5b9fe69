import type { EventId } from '../domain/ids.ts';
import type { InboundStore, NewInboundEvent } from '../store/inbound-store.ts';

interface Pending {
  event: NewInboundEvent;
  resolve: (r: { id: EventId; duplicate: boolean }) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: requests that arrive together share one transaction, and each is answered only
 * after that transaction commits. No timer: a flush starts on the next turn of the event loop
 * after the first request queues, and whatever queues while a flush is in flight goes into the
 * next one, so batches grow with load and a lone request waits for nothing but its own commit.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private flushing = false;
  private scheduled = false;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly store: Pick<InboundStore, 'insertInboundEvents'>,
    private readonly options: { maxBatch: number; onCommitted?: (count: number) => void },
  ) {}

  add(event: NewInboundEvent): Promise<{ id: EventId; duplicate: boolean }> {
    if (this.closed) return Promise.reject(new Error('ingest is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.flushing && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        try {
          const results = await this.store.insertInboundEvents(batch.map((p) => p.event));
          batch.forEach((p, i) => {
            const r = results[i];
            if (r) p.resolve(r);
            else p.reject(new Error('store returned fewer results than events'));
          });
          const fresh = results.filter((r) => !r.duplicate).length;
          if (fresh > 0) this.options.onCommitted?.(fresh);
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
      if (this.queue.length === 0) for (const done of this.idle.splice(0)) done();
    }
  }

  /** Refuses new events and resolves once everything queued has been committed (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.flushing && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
