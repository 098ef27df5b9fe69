import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { DeliveryId, EndpointId, ProjectId } from '../domain/ids.ts';
import type { ClaimedDelivery } from '../store/delivery-store.ts';
import type { Store } from '../store/store.ts';
import type { CompiledEndpoint, CompiledEndpointCache } from './compiled-endpoint.ts';
import { wakeDeliveryWorkers } from './delivery-wakeup.ts';
import type { EndpointLeaseKeeper } from './endpoint-lease-keeper.ts';
import type { LaneScheduler } from './lane-scheduler.ts';
import type { OutcomeWriter } from './outcome-writer.ts';

/**
 * Brings due deliveries into the lanes: by claiming them from the store, or from a publisher in
 * this process that stored them already leased (a hand-off: no claim needed).
 *
 * Modes of the claimer (what `mode()` answers):
 * - `stopped`: the worker has not started, or is stopping. Nothing is claimed and no hand-off is
 *   taken (a publisher then leaves its deliveries unleased, for a claim elsewhere or later).
 * - `idle`: the last claim found nothing due. Nothing is claimed until a wake-up: a publish in
 *   this process, a NOTIFY from another, a retry coming due (the outcome writer's timer), a lane
 *   or project let back in, or the fallback poll (for leases that ran out).
 * - `claiming`: a claim is running. Wake-ups meanwhile are remembered (`wakePending`), and the
 *   loop claims again as soon as the claim ends; never two claims at once.
 * - `backlogged`: the last claim was full, or the buffer was (`moreDue`): more is due than this
 *   process holds. The next claim comes once the buffer has drained to half (`onSlotFreed`) or a
 *   full lane or project is let back in (LaneScheduler.reopen), not at every freed slot, so claims
 *   stay batched. A full claim with room left in the buffer claims again at once (`claiming`).
 * Within a claim, the candidate window has two modes: `wide` (the default) looks at several times
 * the limit of the oldest due rows, so other endpoints' work behind a capped endpoint's backlog
 * is found; `narrow` looks at the limit only, chosen when the last full claim was all one
 * endpoint's (PostgreSQL locks every row it looks at).
 *
 * What a claim brings that a lane or project cannot take is given back at once (released) and
 * the claim after it asks for less. A limited endpoint whose lease another process holds is left
 * to it (EndpointLeaseKeeper).
 */

export type ClaimerMode = 'stopped' | 'idle' | 'claiming' | 'backlogged';

/** Counters shared by the worker's parts, for stats(). */
export interface WorkerCounters {
  claims: number;
  claimed: number;
  handedOff: number;
  attempts: number;
  released: number;
}

export interface DeliveryClaimerDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  scheduler: LaneScheduler;
  leases: EndpointLeaseKeeper;
  outcomes: OutcomeWriter;
  endpoints: CompiledEndpointCache;
  counters: WorkerCounters;
  /** Whether the worker takes work now (started and not stopping). */
  accepting(): boolean;
  stopping(): boolean;
  /** A claim loop or hand-off ended (the worker may have gone idle). */
  onSettled(): void;
}

export interface DeliveryClaimerOptions {
  batchSize: number;
  leaseMs: number;
  maxBuffered: number;
  perEndpointLimit: number;
}

export class DeliveryClaimer {
  claiming: Promise<void> | null = null;
  wakePending = false;
  /** The last claim found nothing due (drain waits for one that did not). */
  lastClaimEmpty = false;
  /** The last claim could not take everything due (it was full, or the buffer was). */
  moreDue = false;
  readonly handOffs = new Set<Promise<unknown>>();
  private claimLimit: number;
  /** The last full claim was all one endpoint's (see claimLoop). */
  private narrowWindow = false;

  constructor(
    private readonly deps: DeliveryClaimerDeps,
    private readonly o: DeliveryClaimerOptions,
  ) {
    this.claimLimit = o.batchSize;
  }

  mode(): ClaimerMode {
    if (!this.deps.accepting()) return 'stopped';
    if (this.claiming !== null) return 'claiming';
    return this.moreDue ? 'backlogged' : 'idle';
  }

  /** Claim now (something was published or came due). */
  wake(): void {
    if (!this.deps.accepting()) return;
    this.wakePending = true;
    if (this.claiming) return;
    this.claiming = this.claimLoop().finally(() => {
      this.claiming = null;
      // A wake that came after the loop's last check but before this point is not lost.
      if (this.wakePending && !this.deps.stopping()) this.wake();
      else this.deps.onSettled();
    });
  }

  /** A send freed a slot: claims again once the backlog has room (see `backlogged`). */
  onSlotFreed(): boolean {
    const { scheduler } = this.deps;
    if (this.moreDue && scheduler.inFlight + scheduler.queued <= this.o.maxBuffered / 2) {
      this.moreDue = false;
      return true;
    }
    return false;
  }

  // ---- hand-off from a publisher in this process ------------------------------------------

  reserve(projectId: ProjectId, endpointId: EndpointId, limited: boolean): boolean {
    if (!this.deps.accepting()) return false;
    // Another process may hold a limited endpoint: its work goes through a claim.
    if (this.deps.leases.enabled && limited && !this.deps.leases.holds(endpointId)) return false;
    return this.deps.scheduler.reserve(projectId, endpointId);
  }

  handOff(deliveries: ClaimedDelivery[]): void {
    this.deps.counters.handedOff += deliveries.length;
    // Each reservation turns into its queue slot in accept(), with no await in between.
    const p = this.accept(deliveries, this.deps.clock.nowMs(), null);
    this.handOffs.add(p);
    void p.finally(() => {
      this.handOffs.delete(p);
      this.deps.onSettled();
    });
  }

  cancel(reservations: ReadonlyArray<{ projectId: ProjectId; endpointId: EndpointId }>): void {
    for (const r of reservations) this.deps.scheduler.unreserve(r.projectId, r.endpointId);
    this.deps.onSettled();
  }

  // ---- claiming ---------------------------------------------------------------------------

  private async claimLoop(): Promise<void> {
    const { store, clock, log, scheduler, leases, counters } = this.deps;
    const { batchSize, perEndpointLimit } = this.o;
    while (this.wakePending && !this.deps.stopping()) {
      this.wakePending = false;
      const room = this.o.maxBuffered - scheduler.inFlight - scheduler.queued;
      if (room <= 0) {
        this.lastClaimEmpty = false;
        this.moreDue = true;
        break;
      }
      const limit = Math.min(this.claimLimit, room);
      const nowMs = clock.nowMs();
      const limits = scheduler.claimLimits(batchSize);
      let claimed: ClaimedDelivery[];
      try {
        claimed = await store.claimDueDeliveries({
          limit,
          nowMs,
          leaseMs: this.o.leaseMs,
          perEndpointLimit,
          endpointLimits: limits.rooms,
          projectLimits: limits.projectRooms,
          excludeEndpointIds: limits.endpoints,
          excludeProjectIds: limits.projects,
          candidateWindow: this.narrowWindow ? 'narrow' : 'wide',
          ...(leases.enabled ? { leaseHolder: leases.holder } : {}),
        });
      } catch (err) {
        log.error({ err }, 'could not claim deliveries; retrying at the next poll');
        return;
      }
      counters.claims++;
      counters.claimed += claimed.length;
      // The wide window finds other endpoints' work behind a capped endpoint's backlog. When a
      // full claim came back all one endpoint's, the due work is that endpoint's: the next claim
      // reads (on PostgreSQL: locks) only `limit` rows. Any other endpoint seen widens it again,
      // and a full lane is left out of claims altogether (excludeEndpointIds).
      const first = claimed[0]?.endpointId;
      this.narrowWindow =
        first !== undefined &&
        claimed.length >= Math.min(limit, limits.rooms[first] ?? perEndpointLimit) &&
        claimed.every((c) => c.endpointId === first);
      this.lastClaimEmpty = claimed.length === 0;
      if (claimed.length >= limit) this.wakePending = true;
      this.moreDue = claimed.length >= limit;
      // A project whose room the claim filled waits, like a full one, until it has drained
      // (LaneScheduler.reopen), so the next claims go to other projects' work.
      const perProject = new Map<ProjectId, number>();
      for (const c of claimed) perProject.set(c.projectId, (perProject.get(c.projectId) ?? 0) + 1);
      for (const [projectId, n] of perProject) {
        const room = limits.projectRooms[projectId];
        if (room !== undefined && n >= room) scheduler.excludedProjects.add(projectId);
      }
      const rejected = await this.accept(claimed, nowMs, limits.rooms);
      // When lanes had to give work back, claim less next time (less to release again).
      this.claimLimit =
        rejected > 0 ? Math.max(16, Math.min(batchSize, 2 * (claimed.length - rejected))) : batchSize;
    }
  }

  /**
   * Puts claimed deliveries in their lanes; releases what lanes cannot take. Returns how many.
   * `asked` is what the claim asked per endpoint; null for deliveries handed off by a publisher.
   */
  private async accept(
    claimed: ClaimedDelivery[],
    nowMs: number,
    asked: Readonly<Record<string, number>> | null,
  ): Promise<number> {
    const { store, log, scheduler, leases, outcomes, endpoints, counters } = this.deps;
    const perEndpointLimit = this.o.perEndpointLimit;
    const stopping = this.deps.stopping;
    const release: DeliveryId[] = [];
    const needLease: Array<{ d: ClaimedDelivery; endpoint: CompiledEndpoint }> = [];
    const got = new Map<EndpointId, number>();
    const handedOff = asked === null;
    for (const d of claimed) {
      if (d.endpoint === null || !d.endpoint.enabled || d.endpoint.healthState === 'disabled') {
        if (handedOff) scheduler.unreserve(d.projectId, d.endpointId);
        outcomes.failUnattempted(d, nowMs);
        continue;
      }
      let endpoint: CompiledEndpoint | null;
      try {
        // Synchronous when compiled already: an await per delivery lets every other microtask
        // (a burst's publish answers among them) run before the next delivery is placed.
        endpoint =
          endpoints.peek(d.endpointId, d.endpoint.updatedAtMs) ??
          (await endpoints.get(d.endpointId, d.endpoint.updatedAtMs));
      } catch (err) {
        log.error({ err, endpointId: d.endpointId }, 'could not load endpoint; releasing its deliveries');
        if (handedOff) scheduler.unreserve(d.projectId, d.endpointId);
        release.push(d.id);
        continue;
      }
      if (handedOff) scheduler.unreserve(d.projectId, d.endpointId);
      if (endpoint === null) {
        outcomes.failUnattempted(d, nowMs);
        continue;
      }
      if (leases.needsLease(endpoint)) {
        needLease.push({ d, endpoint });
        continue;
      }
      place(d, endpoint);
    }
    let lostRace = false;
    if (needLease.length > 0) {
      // Claims skip endpoints other holders have, so this is a free endpoint or a race for one.
      const held = await leases.take([...new Set(needLease.map((n) => n.endpoint.id))]);
      for (const { d, endpoint } of needLease) {
        if (held?.has(endpoint.id)) place(d, endpoint);
        else {
          release.push(d.id);
          lostRace = true;
        }
      }
    }
    scheduler.pump();
    counters.released += release.length;
    if (release.length > 0) {
      try {
        await store.releaseDeliveries(release, nowMs);
      } catch (err) {
        log.error({ err }, 'could not release deliveries; they come back when their lease ends');
      }
      // The holder may have claimed all it saw (these rows were locked by us then): wake it.
      if (lostRace) wakeDeliveryWorkers(store);
    }
    return release.length;

    function place(d: ClaimedDelivery, endpoint: CompiledEndpoint): void {
      const lane = scheduler.laneFor(endpoint);
      // A handed-off delivery has its room reserved (just turned into this slot).
      const room = handedOff ? 1 : scheduler.laneRoom(lane);
      const projectFull = !handedOff && scheduler.projectFull(lane.projectId);
      const n = (got.get(lane.id) ?? 0) + 1;
      got.set(lane.id, n);
      // The claim gave this endpoint all it was asked for: more is probably due. The lane is
      // left out of claims until it has drained, then claims again (LaneScheduler.reopen).
      if (!handedOff && n >= (asked[lane.id] ?? perEndpointLimit)) lane.excluded = true;
      if (stopping() || room <= 0 || projectFull) {
        // Given back; claimed again once this lane or project has drained.
        if (room <= 0) lane.excluded = true;
        if (projectFull) scheduler.excludedProjects.add(lane.projectId);
        release.push(d.id);
        return;
      }
      scheduler.enqueue(lane, { delivery: d, endpoint });
    }
  }
}
