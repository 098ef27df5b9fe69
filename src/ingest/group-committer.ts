import type { EventId } from '../domain/ids.ts';
import { GroupCommit } from '../store/group-commit.ts';
import type { InboundStore, NewInboundEvent } from '../store/inbound-store.ts';

interface Pending {
  event: NewInboundEvent;
  resolve: (r: { id: EventId; duplicate: boolean }) => void;
  reject: (err: unknown) => void;
}

/**
 * Inbound events committed in groups (src/store/group-commit.ts): each request is answered only
 * after its batch's transaction commits. Two batches in flight keep the store busy while the
 * answers of the previous batch are written (the SQLite thread commits them in order; PostgreSQL
 * runs them on two connections).
 */
export class GroupCommitter {
  private closed = false;
  private readonly batches: GroupCommit<Pending>;

  constructor(
    private readonly store: Pick<InboundStore, 'insertInboundEvents'>,
    private readonly options: {
      maxBatch: number;
      maxInFlight?: number;
      onCommitted?: (count: number) => void;
    },
  ) {
    this.batches = new GroupCommit<Pending>({
      commit: (batch) => this.commit(batch),
      maxBatch: options.maxBatch,
      maxInFlight: options.maxInFlight ?? 2,
      yieldBetweenBatches: true,
    });
  }

  /** Queues one event. Its body belongs to the store from here on: read it no more (it may move). */
  add(event: NewInboundEvent): Promise<{ id: EventId; duplicate: boolean }> {
    if (this.closed) return Promise.reject(new Error('ingest is shutting down'));
    return new Promise((resolve, reject) => {
      this.batches.add({ event, resolve, reject });
    });
  }

  private async commit(batch: Pending[]): Promise<void> {
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
    }
  }

  /** Refuses new events and resolves once everything queued has been committed (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    await this.batches.idle();
  }
}
