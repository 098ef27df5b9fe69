import type { EndpointId, ProjectId } from '../domain/ids.ts';
import { TokenBucketRateLimiter } from '../domain/rate-limiter.ts';
import type { ClaimedDelivery } from '../store/delivery-store.ts';
import type { CompiledEndpoint } from './compiled-endpoint.ts';

/**
 * Which claimed delivery is sent next, inside one process. No I/O: time and timers come in
 * (LaneTimers), sends go out (LaneSchedulerHooks.start), so it is tested with a fake clock.
 *
 * - Claimed deliveries wait in a lane per endpoint. A lane sends at most `maxConcurrency` at once
 *   (the endpoint's, default `defaultEndpointConcurrency`) and at most `rateLimitPerSecond` (a
 *   token bucket on the monotonic clock: limits pace real sends, whatever the domain clock says).
 * - Lanes take turns (round robin) for the process's `concurrency` slots, so a slow endpoint
 *   holds at most its own slots; the others keep moving. One project holds at most
 *   `projectInFlightCap` of the slots, so a project with many slow endpoints cannot take them all.
 * - A full lane (its waiting list at its limit) or a project holding `projectCap` of the buffer
 *   is excluded from the next claims (claimLimits), so a backlog on one endpoint or project is not
 *   claimed ahead of everyone else's work; it is let back in once it has drained (reopen).
 * - Publishers in this process reserve room before they commit (reserve), so a hand-off never
 *   overfills a lane.
 */

export interface Job {
  readonly delivery: ClaimedDelivery;
  readonly endpoint: CompiledEndpoint;
}

export interface Lane {
  readonly id: EndpointId;
  readonly projectId: ProjectId;
  queue: Job[];
  inFlight: number;
  maxInFlight: number;
  queueLimit: number;
  /** The queue limit without the depth a fast endpoint earns, and the most it can earn (deepen). */
  baseQueueLimit: number;
  deepestQueueLimit: number;
  rateLimitPerSecond: number | null;
  /** The endpoint has limits of its own: with endpoint leases, it sends only under its lease. */
  limited: boolean;
  tokenTimer: unknown;
  ready: boolean;
  /** Left out of the last claim because it was full; a claim is due once it drains. */
  excluded: boolean;
}

/** The monotonic clock and timers (performance.now and setTimeout in the worker; fakes in tests). */
export interface LaneTimers {
  nowMs(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

export interface LaneSchedulerHooks {
  /** Whether a limited lane may send now (false skips its turn: it lost its endpoint lease). */
  mayStart(lane: Lane): boolean;
  /** Sends the job; call `finished` when its attempt is over. */
  start(lane: Lane, job: Job): void;
}

export interface LaneSchedulerOptions {
  /** Attempts in flight in this process. */
  concurrency: number;
  /** In flight plus queued at most (the claimed buffer). */
  maxBuffered: number;
  /** Share of the buffer one project may hold, and of the sending slots. */
  projectCap: number;
  projectInFlightCap: number;
  defaultEndpointConcurrency: number;
  /** A lane's waiting list by default, and the deepest a fast lane's gets. */
  laneQueueDefault: number;
  laneQueueDeepest: number;
  /** What a claim takes per endpoint at most. */
  perEndpointLimit: number;
  /** The claim lease: a lane holds no more than it can send within half of it. */
  leaseMs: number;
  /** Attempts at most this long mark a fast endpoint (see deepenIfStarved). */
  fastAttemptMs: number;
}

const MAX_EXCLUDED = 1024;
/** How long a dropped lane's earned depth is kept, and for how many endpoints at most. */
const EARNED_DEPTH_TTL_MS = 10_000;
const MAX_EARNED_DEPTHS = 10_000;

export function isLimited(endpoint: CompiledEndpoint): boolean {
  return endpoint.maxConcurrency !== null || endpoint.rateLimitPerSecond !== null;
}

export class LaneScheduler {
  readonly lanes = new Map<EndpointId, Lane>();
  /** Claimed or reserved deliveries per project, in flight or waiting. */
  readonly projectLoad = new Map<ProjectId, number>();
  /** Projects left out of claims until their load has drained (see reopen). */
  readonly excludedProjects = new Set<ProjectId>();
  inFlight = 0;
  queued = 0;
  reservedTotal = 0;
  /** Depth fast lanes earned (deepenIfStarved), kept a while after the lane was dropped. */
  private readonly earnedDepth = new Map<EndpointId, { queueLimit: number; atMs: number }>();
  private readonly projectInFlight = new Map<ProjectId, number>();
  /** Lanes that had work but whose project held its share of the slots. */
  private readonly waitingForProject = new Map<ProjectId, Set<Lane>>();
  private readonly ready: Lane[] = [];
  /** Room promised to publishers for deliveries they are committing (see reserve). */
  private readonly reservedByEndpoint = new Map<EndpointId, number>();
  private readonly limiter = new TokenBucketRateLimiter();

  constructor(
    private readonly o: LaneSchedulerOptions,
    private readonly timers: LaneTimers,
    private readonly hooks: LaneSchedulerHooks,
  ) {}

  addLoad(projectId: ProjectId, n: number): void {
    const next = (this.projectLoad.get(projectId) ?? 0) + n;
    if (next <= 0) this.projectLoad.delete(projectId);
    else this.projectLoad.set(projectId, next);
  }

  /** The endpoint's lane, made or updated to its newest configuration. */
  laneFor(endpoint: CompiledEndpoint): Lane {
    let lane = this.lanes.get(endpoint.id);
    if (!lane) {
      lane = {
        id: endpoint.id,
        projectId: endpoint.projectId,
        queue: [],
        inFlight: 0,
        maxInFlight: 1,
        queueLimit: 1,
        baseQueueLimit: 1,
        deepestQueueLimit: 1,
        rateLimitPerSecond: null,
        limited: false,
        tokenTimer: undefined,
        ready: false,
        excluded: false,
      };
      this.lanes.set(endpoint.id, lane);
      const earned = this.earnedDepth.get(endpoint.id);
      if (earned) {
        this.earnedDepth.delete(endpoint.id);
        if (this.timers.nowMs() - earned.atMs <= EARNED_DEPTH_TTL_MS) lane.queueLimit = earned.queueLimit;
      }
    }
    // The newest configuration wins (a change bumps updatedAtMs and recompiles).
    lane.maxInFlight = endpoint.maxConcurrency ?? this.o.defaultEndpointConcurrency;
    lane.rateLimitPerSecond = endpoint.rateLimitPerSecond;
    lane.limited = isLimited(endpoint);
    // A rate-limited lane holds about two seconds of sends, so waiting never outlives a lease.
    // Otherwise it holds at most a quarter of its project's buffer, so one saturated endpoint
    // cannot fill its project's share and hold up the project's other endpoints. And never more
    // than it can send within half a lease even if every attempt runs to its timeout.
    const leaseSafe = lane.maxInFlight * Math.max(1, Math.floor(this.o.leaseMs / (2 * endpoint.timeoutMs)));
    lane.baseQueueLimit = Math.min(
      leaseSafe,
      endpoint.rateLimitPerSecond === null
        ? Math.max(lane.maxInFlight, this.o.laneQueueDefault)
        : Math.max(1, Math.min(lane.maxInFlight * 2, Math.ceil(endpoint.rateLimitPerSecond * 2))),
    );
    lane.deepestQueueLimit =
      endpoint.rateLimitPerSecond === null
        ? Math.max(lane.baseQueueLimit, Math.min(leaseSafe, this.o.laneQueueDeepest))
        : lane.baseQueueLimit;
    lane.queueLimit = Math.min(Math.max(lane.queueLimit, lane.baseQueueLimit), lane.deepestQueueLimit);
    return lane;
  }

  /** Queues a job in its lane (room was checked by the caller). */
  enqueue(lane: Lane, job: Job): void {
    lane.queue.push(job);
    this.queued++;
    this.addLoad(lane.projectId, 1);
    this.markReady(lane);
  }

  /** Takes every waiting job out of the lane (its work is failed or given back). */
  clearQueue(lane: Lane): Job[] {
    const jobs = lane.queue;
    this.queued -= jobs.length;
    this.addLoad(lane.projectId, -jobs.length);
    lane.queue = [];
    return jobs;
  }

  /**
   * A fast lane that runs dry while more work is on its way (`moreOnTheWay`: a claim is running or
   * the last one was full; or a publish being committed holds room in this lane) doubles its
   * waiting list, up to three quarters of its project's share (and what it can send within half a
   * lease). A claim round trip on a busy store takes milliseconds; with only the base depth, an
   * endpoint that answers in a fraction of a millisecond sits idle between claims. Fast means the
   * attempt that just ended took at most `fastAttemptMs`: a slower endpoint drains its base depth
   * more slowly than a claim refills it, so it keeps the base depth and cannot fill its project's
   * share. The depth outlives the lane by EARNED_DEPTH_TTL_MS (an idle lane is dropped).
   */
  private deepenIfStarved(lane: Lane, attemptMs: number, moreOnTheWay: boolean): void {
    if (lane.queue.length > 0 || lane.queueLimit >= lane.deepestQueueLimit) return;
    const waitingOnStore = moreOnTheWay || (this.reservedByEndpoint.get(lane.id) ?? 0) > 0;
    if (attemptMs > this.o.fastAttemptMs || !waitingOnStore) return;
    lane.queueLimit = Math.min(lane.deepestQueueLimit, lane.queueLimit * 2);
  }

  dropLaneIfIdle(lane: Lane): void {
    if (lane.queue.length === 0 && lane.inFlight === 0 && lane.tokenTimer === undefined && !lane.ready) {
      this.lanes.delete(lane.id);
      // A lane that drained completely while waiting on the store keeps its earned depth for
      // its next work (a lane is dropped whenever idle, and a fast one is idle between claims).
      if (lane.queueLimit > lane.baseQueueLimit) {
        if (this.earnedDepth.size >= MAX_EARNED_DEPTHS)
          this.earnedDepth.delete(this.earnedDepth.keys().next().value as EndpointId);
        this.earnedDepth.set(lane.id, { queueLimit: lane.queueLimit, atMs: this.timers.nowMs() });
      }
    }
  }

  markReady(lane: Lane): void {
    if (
      !lane.ready &&
      lane.queue.length > 0 &&
      lane.inFlight < lane.maxInFlight &&
      lane.tokenTimer === undefined
    ) {
      lane.ready = true;
      this.ready.push(lane);
    }
  }

  /** Starts sends while slots are free and lanes are ready, each lane in turn. */
  pump(): void {
    while (this.inFlight < this.o.concurrency && this.ready.length > 0) {
      const lane = this.ready.shift() as Lane;
      lane.ready = false;
      if (lane.queue.length === 0 || lane.inFlight >= lane.maxInFlight || lane.tokenTimer !== undefined) {
        this.dropLaneIfIdle(lane);
        continue;
      }
      if ((this.projectInFlight.get(lane.projectId) ?? 0) >= this.o.projectInFlightCap) {
        let waiting = this.waitingForProject.get(lane.projectId);
        if (!waiting) {
          waiting = new Set();
          this.waitingForProject.set(lane.projectId, waiting);
        }
        waiting.add(lane);
        continue;
      }
      if (lane.limited && !this.hooks.mayStart(lane)) continue;
      if (lane.rateLimitPerSecond !== null) {
        const waitMs = this.limiter.tryTake(lane.id, lane.rateLimitPerSecond, this.timers.nowMs());
        if (waitMs > 0) {
          lane.tokenTimer = this.timers.setTimeout(() => {
            lane.tokenTimer = undefined;
            this.markReady(lane);
            this.pump();
          }, waitMs);
          continue;
        }
      }
      const job = lane.queue.shift() as Job;
      this.queued--;
      lane.inFlight++;
      this.inFlight++;
      this.projectInFlight.set(lane.projectId, (this.projectInFlight.get(lane.projectId) ?? 0) + 1);
      this.hooks.start(lane, job);
      // Back of the line: every lane with work gets a turn before this one goes again.
      this.markReady(lane);
    }
  }

  /** An attempt of the lane's ended after `attemptMs`; its slot is free again (not yet refilled). */
  finished(lane: Lane, attemptMs: number, moreOnTheWay: boolean): void {
    lane.inFlight--;
    this.inFlight--;
    this.deepenIfStarved(lane, attemptMs, moreOnTheWay);
    const projectNow = (this.projectInFlight.get(lane.projectId) ?? 1) - 1;
    if (projectNow <= 0) this.projectInFlight.delete(lane.projectId);
    else this.projectInFlight.set(lane.projectId, projectNow);
    const waiting = this.waitingForProject.get(lane.projectId);
    if (waiting) {
      this.waitingForProject.delete(lane.projectId);
      for (const w of waiting) this.markReady(w);
    }
    this.addLoad(lane.projectId, -1);
  }

  /**
   * After a send freed a slot: lets the lane, or else its project, back into claims once it has
   * drained (a lane to half its waiting list, a project to three quarters of its share). True when
   * one was let back in (a claim is due).
   */
  reopen(lane: Lane): boolean {
    if (lane.excluded && lane.queue.length <= lane.queueLimit / 2) {
      lane.excluded = false;
      return true;
    }
    if (
      this.excludedProjects.has(lane.projectId) &&
      (this.projectLoad.get(lane.projectId) ?? 0) <= (this.o.projectCap * 3) / 4
    ) {
      this.excludedProjects.delete(lane.projectId);
      return true;
    }
    return false;
  }

  /** Deliveries the lane can take now: its waiting list's room plus its free sending slots. */
  laneRoom(lane: Lane): number {
    return (
      lane.queueLimit +
      Math.max(0, lane.maxInFlight - lane.inFlight) -
      lane.queue.length -
      (this.reservedByEndpoint.get(lane.id) ?? 0)
    );
  }

  projectFull(projectId: ProjectId): boolean {
    return (this.projectLoad.get(projectId) ?? 0) >= this.o.projectCap;
  }

  /**
   * What each known lane and project can still take: full ones are left out of the claim, the
   * others' rooms bound it, so the claim brings no more than their lanes and shares can hold
   * (what a claim brings beyond that is given back at once, and claimed again later).
   */
  claimLimits(batchSize: number): {
    endpoints: EndpointId[];
    projects: ProjectId[];
    rooms: Record<string, number>;
    projectRooms: Record<string, number>;
  } {
    const endpointsOut: EndpointId[] = [];
    const rooms: Record<string, number> = {};
    for (const lane of this.lanes.values()) {
      const room = this.laneRoom(lane);
      if (room <= 0) {
        lane.excluded = true;
        if (endpointsOut.length < MAX_EXCLUDED) endpointsOut.push(lane.id);
      } else if (room !== this.o.perEndpointLimit) {
        rooms[lane.id] = room;
      }
    }
    const projectsOut: ProjectId[] = [];
    const projectRooms: Record<string, number> = {};
    let bounded = 0;
    for (const [projectId, load] of this.projectLoad) {
      if (load >= this.o.projectCap) {
        this.excludedProjects.add(projectId);
        if (projectsOut.length < MAX_EXCLUDED) projectsOut.push(projectId);
      } else if (this.o.projectCap - load < batchSize && bounded < MAX_EXCLUDED) {
        projectRooms[projectId] = this.o.projectCap - load;
        bounded++;
      }
    }
    return { endpoints: endpointsOut, projects: projectsOut, rooms, projectRooms };
  }

  /** Promises a publisher room for one delivery it is committing; false when there is none. */
  reserve(projectId: ProjectId, endpointId: EndpointId): boolean {
    if (this.inFlight + this.queued + this.reservedTotal >= this.o.maxBuffered) return false;
    if (this.projectFull(projectId)) return false;
    const lane = this.lanes.get(endpointId);
    const reserved = this.reservedByEndpoint.get(endpointId) ?? 0;
    if ((lane ? this.laneRoom(lane) : this.o.perEndpointLimit - reserved) <= 0) return false;
    this.reservedByEndpoint.set(endpointId, reserved + 1);
    this.reservedTotal++;
    this.addLoad(projectId, 1);
    return true;
  }

  unreserve(projectId: ProjectId, endpointId: EndpointId): void {
    const reserved = (this.reservedByEndpoint.get(endpointId) ?? 1) - 1;
    if (reserved <= 0) this.reservedByEndpoint.delete(endpointId);
    else this.reservedByEndpoint.set(endpointId, reserved);
    this.reservedTotal--;
    this.addLoad(projectId, -1);
  }

  /** Stops every lane: cancels rate-limit waits and returns every waiting job. */
  stop(): Job[] {
    const jobs: Job[] = [];
    for (const lane of this.lanes.values()) {
      if (lane.tokenTimer !== undefined) this.timers.clearTimeout(lane.tokenTimer);
      lane.tokenTimer = undefined;
      for (const job of this.clearQueue(lane)) jobs.push(job);
    }
    this.ready.length = 0;
    return jobs;
  }

  /** The longest waiting list a lane may hold now. */
  deepestLane(): number {
    let deepest = 0;
    for (const lane of this.lanes.values()) deepest = Math.max(deepest, lane.queueLimit);
    return deepest;
  }
}
