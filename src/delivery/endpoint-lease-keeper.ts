import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { DeliveryId, EndpointId } from '../domain/ids.ts';
import type { Store } from '../store/store.ts';
import { wakeDeliveryWorkers } from './delivery-wakeup.ts';
import type { Lane, LaneScheduler } from './lane-scheduler.ts';

/**
 * Endpoint leases, where several processes share the store (store.capabilities.endpointLeases):
 * an endpoint with limits of its own (maxConcurrency, rateLimitPerSecond) is sent for by one
 * worker at a time, the holder of its lease; the others' claims skip it. The holder renews the
 * lease every third of its length while it has work for the endpoint and gives it up once it has
 * had none for a renewal period, so the limits hold for the whole deployment. Lease times are
 * kept by the monotonic clock (performance.now), with a margin for clocks running at different
 * rates; the store times them by the database's clock.
 *
 * Disabled (one process owns the store), every lane may always send and nothing is held.
 */

/** Renewals that a lane without its lease asks for come at most this often. */
const LEASE_RETRY_MS = 1000;

export interface EndpointLeaseKeeperDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  scheduler: LaneScheduler;
  /** Counts deliveries given back because another holder took their endpoint. */
  onReleased(count: number): void;
  /** A renewal run ended (the worker may have gone idle). */
  onSettled(): void;
}

export class EndpointLeaseKeeper {
  /** This worker's lease-holder id in the store. */
  readonly holder = `w_${randomBytes(12).toString('base64url')}`;
  /**
   * Leases held: until when by performance.now(), and whether a send went under it since the last
   * renewal (an unused lease of an idle lane is given up).
   */
  private readonly held = new Map<EndpointId, { validUntil: number; used: boolean }>();
  /** How long after asking a lease is ours by our own clock (the margin covers clock rates). */
  private readonly validMs: number;
  private timer: NodeJS.Timeout | undefined;
  private run: Promise<void> | null = null;
  private lastRunAt = Number.NEGATIVE_INFINITY;
  private stopping = false;

  constructor(
    private readonly deps: EndpointLeaseKeeperDeps,
    readonly enabled: boolean,
    private readonly leaseMs: number,
  ) {
    this.validMs = leaseMs - Math.min(1000, leaseMs / 10);
  }

  get busy(): boolean {
    return this.run !== null;
  }

  start(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => this.startRun(), this.leaseMs / 3);
    this.timer.unref();
  }

  /** Whether this worker must hold the endpoint's lease to send for it and does not. */
  needsLease(endpoint: {
    id: EndpointId;
    maxConcurrency: number | null;
    rateLimitPerSecond: number | null;
  }): boolean {
    return (
      this.enabled &&
      (endpoint.maxConcurrency !== null || endpoint.rateLimitPerSecond !== null) &&
      !this.holds(endpoint.id)
    );
  }

  holds(id: EndpointId): boolean {
    const lease = this.held.get(id);
    return lease !== undefined && lease.validUntil > performance.now();
  }

  /** The scheduler's gate: a limited lane sends only under a lease it holds now. */
  mayStart(lane: Lane): boolean {
    if (!lane.limited || !this.enabled) return true;
    const lease = this.held.get(lane.id);
    if (lease === undefined || lease.validUntil <= performance.now()) {
      // Not ours (any more): the renewal takes it again or gives the lane's work back.
      this.renewSoon();
      return false;
    }
    lease.used = true;
    return true;
  }

  /** Takes or extends leases; returns the ids held now, or null when the store did not answer. */
  async take(ids: EndpointId[]): Promise<Set<EndpointId> | null> {
    const askedAt = performance.now();
    let got: EndpointId[];
    try {
      got = await this.deps.store.holdEndpointLeases(this.holder, ids, this.leaseMs);
    } catch (err) {
      this.deps.log.error({ err, endpoints: ids.length }, 'could not take endpoint leases');
      return null;
    }
    for (const id of got) {
      const lease = this.held.get(id);
      if (lease) lease.validUntil = askedAt + this.validMs;
      else this.held.set(id, { validUntil: askedAt + this.validMs, used: true });
    }
    return new Set(got);
  }

  private renewSoon(): void {
    if (performance.now() - this.lastRunAt >= LEASE_RETRY_MS) this.startRun();
  }

  private startRun(): void {
    if (this.run || this.stopping) return;
    this.lastRunAt = performance.now();
    this.run = this.renew()
      .catch((err: unknown) => this.deps.log.error({ err }, 'endpoint lease renewal failed'))
      .finally(() => {
        this.run = null;
        this.deps.onSettled();
      });
  }

  /**
   * Extends the leases of endpoints with work (or sends since the last run), gives up the rest,
   * and takes the lease of any limited lane with work that lost its own. A lane whose lease
   * another holder took gives its waiting deliveries back to be claimed there.
   */
  private async renew(): Promise<void> {
    const { scheduler, store } = this.deps;
    const keep: EndpointId[] = [];
    const drop: EndpointId[] = [];
    for (const [id, lease] of this.held) {
      const lane = scheduler.lanes.get(id);
      const busy =
        lease.used ||
        (lane !== undefined && (lane.queue.length > 0 || lane.inFlight > 0 || lane.tokenTimer !== undefined));
      lease.used = false;
      (busy ? keep : drop).push(id);
    }
    for (const lane of scheduler.lanes.values()) {
      if (lane.limited && lane.queue.length > 0 && !this.held.has(lane.id)) keep.push(lane.id);
    }
    for (const id of drop) this.held.delete(id);
    if (drop.length > 0) await store.releaseEndpointLeases(this.holder, drop);
    if (keep.length === 0) return;
    const held = await this.take(keep);
    // The store did not answer: the leases stay as they were (sends stop when one would end).
    if (held === null) return;
    const giveBack: DeliveryId[] = [];
    for (const id of keep) {
      const lane = scheduler.lanes.get(id);
      if (held.has(id)) {
        if (lane) scheduler.markReady(lane);
        continue;
      }
      this.held.delete(id);
      if (!lane) continue;
      for (const job of scheduler.clearQueue(lane)) giveBack.push(job.delivery.id);
      scheduler.dropLaneIfIdle(lane);
    }
    scheduler.pump();
    if (giveBack.length > 0) {
      this.deps.log.warn(
        { deliveries: giveBack.length },
        'endpoint lease taken by another worker; work given back',
      );
      this.deps.onReleased(giveBack.length);
      await store.releaseDeliveries(giveBack, this.deps.clock.nowMs());
      wakeDeliveryWorkers(store);
    }
  }

  /** Starts no more renewals; `settled` waits for a running one. */
  stop(): void {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
  }

  async settled(): Promise<void> {
    await this.run;
  }

  /** Gives up every lease held (nothing is in flight: another process may take them at once). */
  async releaseAll(): Promise<void> {
    if (this.held.size === 0) return;
    await this.deps.store
      .releaseEndpointLeases(this.holder, [...this.held.keys()])
      .catch((err: unknown) => this.deps.log.error({ err }, 'could not give up endpoint leases on stop'));
    this.held.clear();
  }
}
