import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import {
  DEFAULT_ENDPOINT_HEALTH_POLICY,
  type EndpointHealth,
  type EndpointHealthInput,
  type EndpointHealthPolicy,
  type HealthChangeReason,
  nextHealth,
} from '../domain/endpoint-health.ts';
import { type AttemptId, type DeliveryId, type EndpointId, newId, type ProjectId } from '../domain/ids.ts';
import { TokenBucketRateLimiter } from '../domain/rate-limiter.ts';
import {
  createRetrySchedule,
  DEFAULT_RETRY_SCHEDULE,
  nextRetryDelayMs,
  parseRetryAfterMs,
  type RetrySchedule,
} from '../domain/retry-policy.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { ClaimedDelivery, DeliveryCompletion, EndpointHealthRecord } from '../store/delivery-store.ts';
import type { Store } from '../store/store.ts';
import { type CompiledEndpoint, CompiledEndpointCache, liveSigningKeys } from './compiled-endpoint.ts';
import {
  clearLocalDeliveryWorker,
  type LocalDeliveryWorker,
  listenForRemoteWakes,
  onDeliveryWake,
  setLocalDeliveryWorker,
  wakeDeliveryWorkers,
} from './delivery-wakeup.ts';
import { narrowEgressAllowList, parseEgressAllowList } from './egress-guard.ts';
import { createDeliveryHttpClient, type DeliveryHttpClient, type DeliveryHttpResult } from './http-client.ts';
import type { Cidr } from './ip-address.ts';
import type { Publisher } from './publisher.ts';
import { signDelivery } from './signer.ts';

/**
 * The delivery worker: claims due deliveries in batches, sends each as a signed POST, records
 * the attempt, and then marks the delivery succeeded, schedules its retry, or fails it; and feeds
 * every outcome to the endpoint's health.
 *
 * Scheduling inside one process:
 * - Claimed deliveries wait in a lane per endpoint. A lane sends at most `maxConcurrency` at once
 *   (the endpoint's, default `defaultEndpointConcurrency`) and at most `rateLimitPerSecond` (a
 *   token bucket on the monotonic clock: limits pace real sends, whatever the domain clock says).
 * - Lanes take turns (round robin) for the process's `concurrency` slots, so a slow endpoint
 *   holds at most its own slots; the others keep moving. One project holds at most
 *   `maxProjectShare` of the slots, so a project with many slow endpoints cannot take them all.
 * - A full lane (its waiting list at its limit) or a project holding `maxProjectShare` of the
 *   buffer is excluded from the next claims, so a backlog on one endpoint or project is not
 *   claimed ahead of everyone else's work. Claimed deliveries a lane cannot take are released.
 * - Wake-ups are immediate (publish signal, LISTEN/NOTIFY) with a poll as fallback for retries
 *   coming due and for leases that ran out.
 * Across processes (PostgreSQL): an endpoint with limits of its own (maxConcurrency,
 * rateLimitPerSecond) is sent for by one worker at a time, the holder of its endpoint lease; the
 * others' claims skip it. The holder renews the lease while it has work for the endpoint and gives
 * it up once it has had none for a renewal period, so the limits hold for the whole deployment.
 * Outcomes are written in batches (one transaction per batch); health updates are folded per
 * endpoint and written with compare-and-set, so several workers never lose one.
 */

export interface DeliveryWorkerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  secrets: SecretBox;
  /** Publishes the `endpoint.disabled` notice. */
  publisher: Publisher;
}

export interface DeliveryWorkerOptions {
  /** Deliveries claimed per query. Default 100. */
  batchSize?: number;
  /** Attempts in flight in this process. Default 256. */
  concurrency?: number;
  /** How long a claim holds before another worker may take the delivery. Default 5 min. */
  leaseMs?: number;
  /** Fallback poll for retries and expired leases. Default 1 s. */
  pollIntervalMs?: number;
  /** In-flight attempts per endpoint without its own maxConcurrency. Default 16. */
  defaultEndpointConcurrency?: number;
  /**
   * Attempts at most this long mark a fast endpoint, whose lane may deepen when it runs dry
   * (see deepenIfStarved). Default 2 ms.
   */
  fastAttemptMs?: number;
  /**
   * Outcomes are written in batches of up to this many (one statement on PostgreSQL, one
   * transaction on SQLite's writer thread). Default 128.
   */
  outcomeBatch?: number;
  /**
   * How long a smaller batch of outcomes may wait for more while attempts are in flight, ms.
   * Default 10; 0 writes each batch as soon as the last write is done.
   */
  outcomeGatherMs?: number;
  /** Share of the claimed buffer one project may hold. Default 0.5. */
  maxProjectShare?: number;
  /** The operator's egress allow list (CIDRs). */
  egressAllow?: readonly string[];
  healthPolicy?: EndpointHealthPolicy;
  /** The schedule for projects without their own. */
  retrySchedule?: RetrySchedule;
  /** Jitter source, in [0, 1). */
  random?: () => number;
  /** Pooled connections per origin. Default 64. */
  connectionsPerOrigin?: number;
  createHttpClient?: (allow: readonly Cidr[]) => DeliveryHttpClient;
  /**
   * Endpoint leases (see the top of this file). Default: on where several processes share the
   * store (PostgreSQL), off on SQLite (one process).
   */
  endpointLeases?: boolean;
  /** How long an endpoint lease holds unrenewed. Default 30 s; it is renewed every third of that. */
  endpointLeaseMs?: number;
}

export interface DeliveryWorkerStats {
  inFlight: number;
  queued: number;
  /** Room promised to publishers for deliveries being committed. */
  reserved: number;
  /** Claimed deliveries given back unattempted (a lane or project was full). */
  released: number;
  lanes: number;
  /** The longest waiting list a lane may hold now (fast lanes deepen; see deepenIfStarved). */
  deepestLane: number;
  claims: number;
  /** Deliveries taken by claims (each claim counted in `claims`). */
  claimed: number;
  /** Deliveries a publisher in this process stored leased and handed over (no claim). */
  handedOff: number;
  attempts: number;
}

export interface DeliveryWorker {
  start(): Promise<void>;
  /** Claim now (something was published or came due). */
  wake(): void;
  /** Wakes the worker and resolves once nothing due is left to claim, send or write. */
  drain(): Promise<void>;
  /** Stops claiming, gives back what was claimed but not started, finishes in-flight attempts. */
  stop(): Promise<void>;
  stats(): DeliveryWorkerStats;
}

/** The operational event announced to a project's other endpoints when health disables one. */
export const ENDPOINT_DISABLED_EVENT = 'endpoint.disabled';

interface Job {
  readonly delivery: ClaimedDelivery;
  readonly endpoint: CompiledEndpoint;
}

interface Lane {
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
  tokenTimer: NodeJS.Timeout | undefined;
  ready: boolean;
  /** Left out of the last claim because it was full; a claim is due once it drains. */
  excluded: boolean;
}

interface PendingCompletion {
  completion: DeliveryCompletion;
  /** Finishing an ordered delivery makes the next one with its key claimable. */
  unblocksOrdered: boolean;
  health: { endpointId: EndpointId; input: EndpointHealthInput; cleanBefore: boolean } | null;
}

const SUCCESS_WRITE_INTERVAL_MS = 60_000;
const MAX_EXCLUDED = 1024;
/** How long a dropped lane's earned depth is kept, and for how many endpoints at most. */
const EARNED_DEPTH_TTL_MS = 10_000;
const MAX_EARNED_DEPTHS = 10_000;
/** Renewals that a lane without its lease asks for come at most this often. */
const LEASE_RETRY_MS = 1000;

function sameHealth(a: EndpointHealthRecord, b: Omit<EndpointHealthRecord, 'version'>): boolean {
  return (
    a.state === b.state &&
    a.consecutiveFailures === b.consecutiveFailures &&
    a.firstFailureAtMs === b.firstFailureAtMs &&
    a.failedSinceSuccess === b.failedSinceSuccess &&
    a.lastSuccessAtMs === b.lastSuccessAtMs &&
    a.changedAtMs === b.changedAtMs &&
    a.reason === b.reason
  );
}

export function createDeliveryWorker(
  deps: DeliveryWorkerDeps,
  options: DeliveryWorkerOptions = {},
): DeliveryWorker {
  const { store, clock, logger, secrets, publisher } = deps;
  const batchSize = options.batchSize ?? 100;
  const concurrency = options.concurrency ?? 256;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const defaultEndpointConcurrency = options.defaultEndpointConcurrency ?? 16;
  const fastAttemptMs = options.fastAttemptMs ?? 2;
  const outcomeBatch = options.outcomeBatch ?? 128;
  const outcomeGatherMs = options.outcomeGatherMs ?? 10;
  const maxBuffered = Math.max(2 * concurrency, batchSize);
  const projectShare = options.maxProjectShare ?? 0.5;
  const projectCap = Math.max(1, Math.floor(maxBuffered * projectShare));
  const projectInFlightCap = Math.max(1, Math.floor(concurrency * projectShare));
  const laneQueueDefault = Math.min(64, Math.floor(projectCap / 4));
  /** The deepest a fast lane's waiting list gets: three quarters of its project's share. */
  const laneQueueDeepest = Math.max(laneQueueDefault, Math.floor((projectCap * 3) / 4));
  /** What a claim takes per endpoint at most: what a fresh lane with default limits can hold. */
  const perEndpointLimit = Math.max(1, defaultEndpointConcurrency + laneQueueDefault);
  const healthPolicy = options.healthPolicy ?? DEFAULT_ENDPOINT_HEALTH_POLICY;
  const defaultSchedule = options.retrySchedule ?? DEFAULT_RETRY_SCHEDULE;
  const random = options.random ?? Math.random;
  const useLeases = options.endpointLeases ?? store.kind === 'postgres';
  const endpointLeaseMs = options.endpointLeaseMs ?? 30_000;
  /**
   * How long after asking a lease is ours by our own clock. The database set its end at least
   * endpointLeaseMs after the request left; the margin covers clocks that run at different rates.
   */
  const leaseValidMs = endpointLeaseMs - Math.min(1000, endpointLeaseMs / 10);
  const leaseHolder = `w_${randomBytes(12).toString('base64url')}`;
  const operatorAllow = parseEgressAllowList(options.egressAllow ?? []);
  const createHttpClient =
    options.createHttpClient ??
    ((allow: readonly Cidr[]) =>
      createDeliveryHttpClient({
        egress: { allow },
        connectionsPerOrigin: options.connectionsPerOrigin ?? 64,
      }));

  const endpoints = new CompiledEndpointCache((id) => store.getEndpointForDelivery(id), secrets);
  const limiter = new TokenBucketRateLimiter();
  const httpClients = new Map<string, DeliveryHttpClient>();
  const schedules = new Map<string, RetrySchedule>();
  const lanes = new Map<EndpointId, Lane>();
  /** Depth fast lanes earned (deepenIfStarved), kept a while after the lane was dropped. */
  const earnedDepth = new Map<EndpointId, { queueLimit: number; atMs: number }>();
  const projectLoad = new Map<ProjectId, number>();
  const projectInFlight = new Map<ProjectId, number>();
  /** Lanes that had work but whose project held its share of the slots. */
  const waitingForProject = new Map<ProjectId, Set<Lane>>();
  const ready: Lane[] = [];
  const running = new Set<Promise<void>>();
  const lastSuccessWrite = new Map<EndpointId, number>();
  const healthInbox = new Map<EndpointId, EndpointHealthInput[]>();
  const excludedProjects = new Set<ProjectId>();
  const notices = new Set<Promise<unknown>>();
  /** Room promised to publishers for deliveries they are committing (see reserve). */
  const reservedByEndpoint = new Map<EndpointId, number>();
  let reservedTotal = 0;
  const handOffs = new Set<Promise<unknown>>();
  /**
   * Endpoint leases this worker holds: until when by performance.now(), and whether a send went
   * under it since the last renewal (an unused lease of an idle lane is given up).
   */
  const heldLeases = new Map<EndpointId, { validUntil: number; used: boolean }>();
  let leaseTimer: NodeJS.Timeout | undefined;
  let leaseRun: Promise<void> | null = null;
  let lastLeaseRunAt = Number.NEGATIVE_INFINITY;

  let started = false;
  let stopping = false;
  let inFlight = 0;
  let queued = 0;
  let claims = 0;
  let claimedTotal = 0;
  let handedOffTotal = 0;
  let attempts = 0;
  let released = 0;
  let claiming: Promise<void> | null = null;
  let wakePending = false;
  let lastClaimEmpty = false;
  /** The last claim could not take everything due (it was full, or the buffer was). */
  let moreDue = false;
  let claimLimit = batchSize;
  /** The last full claim was all one endpoint's (see claimLoop). */
  let narrowWindow = false;
  let completions: PendingCompletion[] = [];
  let flushing: Promise<void> | null = null;
  /** Ends the gathering wait of the outcome writer (see gather) once a batch is full. */
  let batchFull: (() => void) | null = null;
  let healthRun: Promise<void> | null = null;
  let pollTimer: NodeJS.Timeout | undefined;
  let retryTimer: { timer: NodeJS.Timeout; atMs: number } | undefined;
  let unsubscribeLocal: (() => void) | undefined;
  let unlistenRemote: (() => Promise<void>) | undefined;
  let idleWaiters: Array<() => void> = [];

  const log = logger.child({ component: 'delivery-worker' });

  // ---- helpers ---------------------------------------------------------------------------

  function httpFor(projectAllow: string[] | null): DeliveryHttpClient {
    const allow =
      projectAllow === null
        ? operatorAllow
        : narrowEgressAllowList(operatorAllow, parseEgressAllowList(projectAllow));
    const key = allow.map((c) => c.text).join(',');
    let client = httpClients.get(key);
    if (!client) {
      client = createHttpClient(allow);
      httpClients.set(key, client);
    }
    return client;
  }

  function scheduleFor(delaysMs: number[] | null): RetrySchedule {
    if (delaysMs === null) return defaultSchedule;
    const key = delaysMs.join(',');
    let schedule = schedules.get(key);
    if (!schedule) {
      try {
        schedule = createRetrySchedule(delaysMs);
      } catch {
        schedule = defaultSchedule;
      }
      if (schedules.size > 1000) schedules.clear();
      schedules.set(key, schedule);
    }
    return schedule;
  }

  function addLoad(projectId: ProjectId, n: number): void {
    const next = (projectLoad.get(projectId) ?? 0) + n;
    if (next <= 0) projectLoad.delete(projectId);
    else projectLoad.set(projectId, next);
  }

  function laneFor(endpoint: CompiledEndpoint): Lane {
    let lane = lanes.get(endpoint.id);
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
      lanes.set(endpoint.id, lane);
      const earned = earnedDepth.get(endpoint.id);
      if (earned) {
        earnedDepth.delete(endpoint.id);
        if (performance.now() - earned.atMs <= EARNED_DEPTH_TTL_MS) lane.queueLimit = earned.queueLimit;
      }
    }
    // The newest configuration wins (a change bumps updatedAtMs and recompiles).
    lane.maxInFlight = endpoint.maxConcurrency ?? defaultEndpointConcurrency;
    lane.rateLimitPerSecond = endpoint.rateLimitPerSecond;
    lane.limited = isLimited(endpoint);
    // A rate-limited lane holds about two seconds of sends, so waiting never outlives a lease.
    // Otherwise it holds at most a quarter of its project's buffer, so one saturated endpoint
    // cannot fill its project's share and hold up the project's other endpoints. And never more
    // than it can send within half a lease even if every attempt runs to its timeout.
    const leaseSafe = lane.maxInFlight * Math.max(1, Math.floor(leaseMs / (2 * endpoint.timeoutMs)));
    lane.baseQueueLimit = Math.min(
      leaseSafe,
      endpoint.rateLimitPerSecond === null
        ? Math.max(lane.maxInFlight, laneQueueDefault)
        : Math.max(1, Math.min(lane.maxInFlight * 2, Math.ceil(endpoint.rateLimitPerSecond * 2))),
    );
    lane.deepestQueueLimit =
      endpoint.rateLimitPerSecond === null
        ? Math.max(lane.baseQueueLimit, Math.min(leaseSafe, laneQueueDeepest))
        : lane.baseQueueLimit;
    lane.queueLimit = Math.min(Math.max(lane.queueLimit, lane.baseQueueLimit), lane.deepestQueueLimit);
    return lane;
  }

  /**
   * A fast lane that runs dry while more work is on its way (a claim is running or the last one
   * was full, or a publish being committed holds room in this lane) doubles its waiting list, up
   * to three quarters of its project's share (and what it can send within half a lease). A claim
   * round trip on a busy store takes milliseconds; with only the base depth, an endpoint that
   * answers in a fraction of a millisecond sits idle between claims. Fast means the attempt that
   * just ended took at most `fastAttemptMs`: a slower endpoint drains its base depth more slowly
   * than a claim refills it, so it keeps the base depth and cannot fill its project's share. The
   * depth outlives the lane by EARNED_DEPTH_TTL_MS (an idle lane is dropped, see dropLaneIfIdle).
   */
  function deepenIfStarved(lane: Lane, attemptMs: number): void {
    if (lane.queue.length > 0 || lane.queueLimit >= lane.deepestQueueLimit) return;
    const waitingOnStore = claiming !== null || moreDue || (reservedByEndpoint.get(lane.id) ?? 0) > 0;
    if (attemptMs > fastAttemptMs || !waitingOnStore) return;
    lane.queueLimit = Math.min(lane.deepestQueueLimit, lane.queueLimit * 2);
  }

  function dropLaneIfIdle(lane: Lane): void {
    if (lane.queue.length === 0 && lane.inFlight === 0 && lane.tokenTimer === undefined && !lane.ready) {
      lanes.delete(lane.id);
      // A lane that drained completely while waiting on the store keeps its earned depth for
      // its next work (a lane is dropped whenever idle, and a fast one is idle between claims).
      if (lane.queueLimit > lane.baseQueueLimit) {
        if (earnedDepth.size >= MAX_EARNED_DEPTHS)
          earnedDepth.delete(earnedDepth.keys().next().value as EndpointId);
        earnedDepth.set(lane.id, { queueLimit: lane.queueLimit, atMs: performance.now() });
      }
    }
  }

  function markReady(lane: Lane): void {
    if (
      !lane.ready &&
      lane.queue.length > 0 &&
      lane.inFlight < lane.maxInFlight &&
      lane.tokenTimer === undefined
    ) {
      lane.ready = true;
      ready.push(lane);
    }
  }

  // ---- dispatch --------------------------------------------------------------------------

  function pump(): void {
    while (inFlight < concurrency && ready.length > 0) {
      const lane = ready.shift() as Lane;
      lane.ready = false;
      if (lane.queue.length === 0 || lane.inFlight >= lane.maxInFlight || lane.tokenTimer !== undefined) {
        dropLaneIfIdle(lane);
        continue;
      }
      if ((projectInFlight.get(lane.projectId) ?? 0) >= projectInFlightCap) {
        let waiting = waitingForProject.get(lane.projectId);
        if (!waiting) {
          waiting = new Set();
          waitingForProject.set(lane.projectId, waiting);
        }
        waiting.add(lane);
        continue;
      }
      if (lane.limited && useLeases) {
        const lease = heldLeases.get(lane.id);
        if (lease === undefined || lease.validUntil <= performance.now()) {
          // Not ours (any more): the renewal takes it again or gives the lane's work back.
          renewLeasesSoon();
          continue;
        }
        lease.used = true;
      }
      if (lane.rateLimitPerSecond !== null) {
        const waitMs = limiter.tryTake(lane.id, lane.rateLimitPerSecond, performance.now());
        if (waitMs > 0) {
          lane.tokenTimer = setTimeout(() => {
            lane.tokenTimer = undefined;
            markReady(lane);
            pump();
          }, waitMs);
          continue;
        }
      }
      const job = lane.queue.shift() as Job;
      queued--;
      lane.inFlight++;
      inFlight++;
      projectInFlight.set(lane.projectId, (projectInFlight.get(lane.projectId) ?? 0) + 1);
      const p = send(lane, job);
      running.add(p);
      void p.finally(() => running.delete(p));
      // Back of the line: every lane with work gets a turn before this one goes again.
      markReady(lane);
    }
  }

  async function send(lane: Lane, job: Job): Promise<void> {
    const { delivery: d, endpoint } = job;
    const startedAtMs = clock.nowMs();
    let result: DeliveryHttpResult;
    try {
      const keys = liveSigningKeys(endpoint, startedAtMs);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        ...endpoint.headers,
        ...signDelivery({
          msgId: d.messageId,
          timestampSeconds: Math.floor(startedAtMs / 1000),
          body: d.body,
          keys,
          ...(endpoint.plainHmacHeader !== undefined ? { plainHmacHeader: endpoint.plainHmacHeader } : {}),
        }),
      };
      if (d.credentialId !== null) headers['hookyard-credential-id'] = d.credentialId;
      if (d.userId !== null) headers['hookyard-user-id'] = d.userId;
      result = await httpFor(d.egressAllow).post(endpoint.url, headers, d.body, {
        timeoutMs: endpoint.timeoutMs,
      });
    } catch (err) {
      // The HTTP client reports failures as results; this is a bug or a bad secret. Retry later.
      log.error({ err, deliveryId: d.id, endpointId: d.endpointId }, 'delivery attempt could not be made');
      result = { ok: false, durationMs: 0, errorKind: 'other', errorMessage: (err as Error).message };
    }
    attempts++;
    lane.inFlight--;
    inFlight--;
    deepenIfStarved(lane, result.durationMs);
    const projectNow = (projectInFlight.get(lane.projectId) ?? 1) - 1;
    if (projectNow <= 0) projectInFlight.delete(lane.projectId);
    else projectInFlight.set(lane.projectId, projectNow);
    const waiting = waitingForProject.get(lane.projectId);
    if (waiting) {
      waitingForProject.delete(lane.projectId);
      for (const w of waiting) markReady(w);
    }
    addLoad(lane.projectId, -1);
    complete(job, startedAtMs, result);
    afterSlotFreed(lane);
  }

  function afterSlotFreed(lane: Lane): void {
    markReady(lane);
    pump();
    if (lane.excluded && lane.queue.length <= lane.queueLimit / 2) {
      lane.excluded = false;
      wake();
    } else if (
      excludedProjects.has(lane.projectId) &&
      (projectLoad.get(lane.projectId) ?? 0) <= (projectCap * 3) / 4
    ) {
      excludedProjects.delete(lane.projectId);
      wake();
    } else if (moreDue && inFlight + queued <= maxBuffered / 2) {
      moreDue = false;
      wake();
    }
    dropLaneIfIdle(lane);
    checkIdle();
  }

  function complete(job: Job, startedAtMs: number, result: DeliveryHttpResult): void {
    const d = job.delivery;
    const nowMs = clock.nowMs();
    let status: DeliveryCompletion['status'];
    let nextAttemptAtMs = nowMs;
    let scheduledRetryAtMs: number | null = null;
    let healthInput: EndpointHealthInput;
    if (result.ok) {
      status = 'succeeded';
      healthInput = { type: 'success', atMs: nowMs };
    } else {
      const failure = {
        ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
        ...(result.errorKind !== undefined ? { errorKind: result.errorKind } : {}),
      };
      const retryAfterMs = parseRetryAfterMs(result.responseHeaders?.['retry-after'], nowMs);
      const delayMs = nextRetryDelayMs({
        schedule: scheduleFor(d.retryDelaysMs),
        attemptNumber: d.schedulePosition + 1,
        failure,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        random,
      });
      if (delayMs === null) {
        status = 'failed';
      } else {
        status = 'pending';
        nextAttemptAtMs = nowMs + delayMs;
        scheduledRetryAtMs = nextAttemptAtMs;
      }
      healthInput = { type: result.statusCode === 410 ? 'gone' : 'failure', atMs: nowMs };
    }
    const claimedHealth = d.endpoint;
    completions.push({
      unblocksOrdered: d.orderingKey !== null && status !== 'pending',
      completion: {
        deliveryId: d.id,
        status,
        nextAttemptAtMs,
        updatedAtMs: nowMs,
        lastFailureKind: result.ok ? null : (result.errorKind ?? 'http_status'),
        attempt: {
          id: newId('attempt', nowMs) as AttemptId,
          projectId: d.projectId,
          deliveryId: d.id,
          messageId: d.messageId,
          endpointId: d.endpointId,
          attemptNumber: d.attemptCount + 1,
          startedAtMs,
          durationMs: result.durationMs,
          outcome: result.ok ? 'succeeded' : 'failed',
          statusCode: result.statusCode ?? null,
          errorKind: result.errorKind ?? null,
          errorMessage: result.errorMessage ?? null,
          responseHeaders: { ...(result.responseHeaders ?? {}) },
          responseBody: result.bodyExcerpt ?? '',
          responseBodyTruncated: result.bodyTruncated === true,
          nextAttemptAtMs: scheduledRetryAtMs,
        },
      },
      health: {
        endpointId: d.endpointId,
        input: healthInput,
        cleanBefore:
          claimedHealth !== null &&
          claimedHealth.healthState === 'active' &&
          claimedHealth.consecutiveFailures === 0,
      },
    });
    scheduleFlush();
  }

  /** A delivery that cannot be attempted (endpoint deleted or disabled) fails without an attempt. */
  function failUnattempted(d: ClaimedDelivery, nowMs: number): void {
    completions.push({
      unblocksOrdered: d.orderingKey !== null,
      completion: {
        deliveryId: d.id,
        status: 'failed',
        nextAttemptAtMs: nowMs,
        updatedAtMs: nowMs,
        lastFailureKind: 'endpoint_disabled',
        attempt: null,
      },
      health: null,
    });
    scheduleFlush();
  }

  // ---- writing outcomes ------------------------------------------------------------------

  function scheduleFlush(): void {
    if (completions.length >= outcomeBatch && batchFull) {
      batchFull();
      batchFull = null;
    }
    if (flushing) return;
    flushing = (async () => {
      // Let the attempts finishing in this turn join the batch.
      await new Promise((r) => setImmediate(r));
      while (completions.length > 0) {
        if (shouldGather()) await gather();
        const batch = completions;
        completions = [];
        await writeCompletions(batch);
      }
    })().finally(() => {
      flushing = null;
      if (completions.length > 0) scheduleFlush();
      checkIdle();
    });
  }

  /**
   * Whether a small batch of outcomes waits for company: only while attempts are in flight (each
   * ends with an outcome, within its endpoint's timeout at the latest), never for an ordered
   * delivery's outcome (the next one with its key waits for it) or while stopping. Outcomes are
   * lazily durable and on no one's latency path: a delivery counts as delivered when the receiver
   * answers, not when its outcome is written.
   */
  function shouldGather(): boolean {
    if (outcomeGatherMs <= 0 || completions.length >= outcomeBatch || inFlight === 0 || stopping)
      return false;
    for (const c of completions) if (c.unblocksOrdered) return false;
    return true;
  }

  /** Waits until `outcomeBatch` outcomes are waiting or `outcomeGatherMs` has passed. */
  function gather(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        batchFull = null;
        resolve();
      }, outcomeGatherMs);
      batchFull = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async function writeCompletions(batch: PendingCompletion[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await store.completeDeliveries(batch.map((b) => b.completion));
        break;
      } catch (err) {
        if (attempt >= 3) {
          // The deliveries stay claimed until their lease ends and are then attempted again.
          log.error(
            { err, deliveries: batch.length },
            'could not record delivery outcomes; they will be retried',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
    const nowMs = clock.nowMs();
    let earliestRetryMs = Number.POSITIVE_INFINITY;
    for (const { completion, health, unblocksOrdered } of batch) {
      if (unblocksOrdered) earliestRetryMs = nowMs;
      if (completion.status === 'pending')
        earliestRetryMs = Math.min(earliestRetryMs, completion.nextAttemptAtMs);
      if (health) queueHealth(health.endpointId, health.input, health.cleanBefore);
    }
    if (earliestRetryMs <= nowMs) wake();
    else if (earliestRetryMs - nowMs < pollIntervalMs) wakeAt(earliestRetryMs, nowMs);
  }

  function wakeAt(atMs: number, nowMs: number): void {
    if (stopping || (retryTimer && retryTimer.atMs <= atMs)) return;
    if (retryTimer) clearTimeout(retryTimer.timer);
    const timer = setTimeout(() => {
      retryTimer = undefined;
      wake();
    }, atMs - nowMs);
    timer.unref();
    retryTimer = { timer, atMs };
  }

  // ---- endpoint health -------------------------------------------------------------------

  function queueHealth(endpointId: EndpointId, input: EndpointHealthInput, cleanBefore: boolean): void {
    if (input.type === 'success' && cleanBefore) {
      // Nothing to heal: only lastSuccessAtMs would move, so it is written at most once a minute.
      const last = lastSuccessWrite.get(endpointId);
      if (last !== undefined && input.atMs - last < SUCCESS_WRITE_INTERVAL_MS) return;
      if (lastSuccessWrite.size > 10_000) lastSuccessWrite.clear();
      lastSuccessWrite.set(endpointId, input.atMs);
    }
    const inputs = healthInbox.get(endpointId);
    if (inputs) inputs.push(input);
    else healthInbox.set(endpointId, [input]);
    startHealthRun();
  }

  function startHealthRun(): void {
    if (healthRun) return;
    healthRun = runHealth().finally(() => {
      healthRun = null;
      if (healthInbox.size > 0) startHealthRun();
      else checkIdle();
    });
  }

  async function runHealth(): Promise<void> {
    while (healthInbox.size > 0) {
      const work = [...healthInbox.entries()];
      healthInbox.clear();
      for (const [endpointId, inputs] of work) {
        try {
          await applyHealth(endpointId, inputs);
        } catch (err) {
          log.error({ err, endpointId }, 'could not update endpoint health');
        }
      }
    }
  }

  async function applyHealth(endpointId: EndpointId, inputs: EndpointHealthInput[]): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const stored = await store.getEndpointHealth(endpointId);
      if (!stored) return;
      let health: EndpointHealth = {
        state: stored.state,
        consecutiveFailures: stored.consecutiveFailures,
        firstFailureAtMs: stored.firstFailureAtMs ?? undefined,
        failedSinceSuccess: stored.failedSinceSuccess,
        lastSuccessAtMs: stored.lastSuccessAtMs ?? undefined,
      };
      let changedAtMs = stored.changedAtMs;
      let reason = stored.reason;
      const changes: Array<{ reason: HealthChangeReason; atMs: number }> = [];
      for (const input of inputs) {
        const t = nextHealth(health, input, healthPolicy);
        health = t.health;
        if (t.changed && t.reason) {
          changedAtMs = input.atMs;
          reason = t.reason;
          changes.push({ reason: t.reason, atMs: input.atMs });
        }
      }
      const next: Omit<EndpointHealthRecord, 'version'> = {
        state: health.state,
        consecutiveFailures: health.consecutiveFailures,
        firstFailureAtMs: health.firstFailureAtMs ?? null,
        failedSinceSuccess: health.failedSinceSuccess,
        lastSuccessAtMs: health.lastSuccessAtMs ?? null,
        changedAtMs,
        reason,
      };
      if (sameHealth(stored, next)) return;
      if (!(await store.compareAndSetEndpointHealth(endpointId, stored.version, next))) continue;
      if (stored.state !== next.state) await onStateChanged(endpointId, stored.state, next, changes);
      return;
    }
    log.warn({ endpointId }, 'endpoint health kept changing under us; this update was dropped');
  }

  async function onStateChanged(
    endpointId: EndpointId,
    from: EndpointHealthRecord['state'],
    to: Omit<EndpointHealthRecord, 'version'>,
    changes: Array<{ reason: HealthChangeReason; atMs: number }>,
  ): Promise<void> {
    const endpoint = await store.getEndpointForDelivery(endpointId);
    const projectId = endpoint?.projectId;
    log.warn({ endpointId, projectId, from, to: to.state, reason: to.reason }, 'endpoint health changed');
    if (to.state !== 'disabled' || !endpoint) return;
    const nowMs = clock.nowMs();
    // What waits for a disabled endpoint fails now; `recover` replays it once it is enabled.
    await store.failPendingDeliveries(endpointId, nowMs);
    const lane = lanes.get(endpointId);
    if (lane) {
      queued -= lane.queue.length;
      addLoad(lane.projectId, -lane.queue.length);
      lane.queue = [];
      dropLaneIfIdle(lane);
    }
    const disabled = changes.find((c) => c.reason === 'gone' || c.reason === 'sustained_failure');
    const notice = publisher
      .publish({
        projectId: endpoint.projectId,
        eventType: ENDPOINT_DISABLED_EVENT,
        payload: {
          endpointId,
          url: endpoint.url,
          name: endpoint.name,
          reason: to.reason,
          disabledAt: new Date(disabled?.atMs ?? nowMs).toISOString(),
          consecutiveFailures: to.consecutiveFailures,
        },
        excludeEndpointIds: [endpointId],
      })
      .catch((err: unknown) => log.error({ err, endpointId }, 'could not publish endpoint.disabled'));
    notices.add(notice);
    void notice.finally(() => {
      notices.delete(notice);
      checkIdle();
    });
  }

  // ---- claiming --------------------------------------------------------------------------

  function wake(): void {
    if (!started || stopping) return;
    wakePending = true;
    if (claiming) return;
    claiming = claimLoop().finally(() => {
      claiming = null;
      // A wake that came after the loop's last check but before this point is not lost.
      if (wakePending && !stopping) wake();
      else checkIdle();
    });
  }

  /**
   * What each known lane and project can still take: full ones are left out of the claim, the
   * others' rooms bound it, so the claim brings no more than their lanes and shares can hold
   * (what a claim brings beyond that is given back at once, and claimed again later).
   */
  function claimLimits(): {
    endpoints: EndpointId[];
    projects: ProjectId[];
    rooms: Record<string, number>;
    projectRooms: Record<string, number>;
  } {
    const endpointsOut: EndpointId[] = [];
    const rooms: Record<string, number> = {};
    for (const lane of lanes.values()) {
      const room = laneRoom(lane);
      if (room <= 0) {
        lane.excluded = true;
        if (endpointsOut.length < MAX_EXCLUDED) endpointsOut.push(lane.id);
      } else if (room !== perEndpointLimit) {
        rooms[lane.id] = room;
      }
    }
    const projectsOut: ProjectId[] = [];
    const projectRooms: Record<string, number> = {};
    let bounded = 0;
    for (const [projectId, load] of projectLoad) {
      if (load >= projectCap) {
        excludedProjects.add(projectId);
        if (projectsOut.length < MAX_EXCLUDED) projectsOut.push(projectId);
      } else if (projectCap - load < batchSize && bounded < MAX_EXCLUDED) {
        projectRooms[projectId] = projectCap - load;
        bounded++;
      }
    }
    return { endpoints: endpointsOut, projects: projectsOut, rooms, projectRooms };
  }

  /** Deliveries the lane can take now: its waiting list's room plus its free sending slots. */
  function laneRoom(lane: Lane): number {
    return (
      lane.queueLimit +
      Math.max(0, lane.maxInFlight - lane.inFlight) -
      lane.queue.length -
      (reservedByEndpoint.get(lane.id) ?? 0)
    );
  }

  // ---- hand-off from a publisher in this process ---------------------------------------

  function reserve(projectId: ProjectId, endpointId: EndpointId, limited: boolean): boolean {
    if (!started || stopping) return false;
    // Another process may hold a limited endpoint: its work goes through a claim.
    if (useLeases && limited && !holdsLease(endpointId)) return false;
    if (inFlight + queued + reservedTotal >= maxBuffered) return false;
    if ((projectLoad.get(projectId) ?? 0) >= projectCap) return false;
    const lane = lanes.get(endpointId);
    const reserved = reservedByEndpoint.get(endpointId) ?? 0;
    if ((lane ? laneRoom(lane) : perEndpointLimit - reserved) <= 0) return false;
    reservedByEndpoint.set(endpointId, reserved + 1);
    reservedTotal++;
    addLoad(projectId, 1);
    return true;
  }

  function unreserve(projectId: ProjectId, endpointId: EndpointId): void {
    const reserved = (reservedByEndpoint.get(endpointId) ?? 1) - 1;
    if (reserved <= 0) reservedByEndpoint.delete(endpointId);
    else reservedByEndpoint.set(endpointId, reserved);
    reservedTotal--;
    addLoad(projectId, -1);
  }

  const local: LocalDeliveryWorker = { leaseMs, reserve, handOff, cancel };

  function handOff(deliveries: ClaimedDelivery[]): void {
    handedOffTotal += deliveries.length;
    // Each reservation turns into its queue slot in accept(), with no await in between.
    const p = accept(deliveries, clock.nowMs(), null);
    handOffs.add(p);
    void p.finally(() => {
      handOffs.delete(p);
      checkIdle();
    });
  }

  function cancel(reservations: ReadonlyArray<{ projectId: ProjectId; endpointId: EndpointId }>): void {
    for (const r of reservations) unreserve(r.projectId, r.endpointId);
    checkIdle();
  }

  async function claimLoop(): Promise<void> {
    while (wakePending && !stopping) {
      wakePending = false;
      const room = maxBuffered - inFlight - queued;
      if (room <= 0) {
        lastClaimEmpty = false;
        moreDue = true;
        break;
      }
      const limit = Math.min(claimLimit, room);
      const nowMs = clock.nowMs();
      const limits = claimLimits();
      let claimed: ClaimedDelivery[];
      try {
        claimed = await store.claimDueDeliveries({
          limit,
          nowMs,
          leaseMs,
          perEndpointLimit,
          endpointLimits: limits.rooms,
          projectLimits: limits.projectRooms,
          excludeEndpointIds: limits.endpoints,
          excludeProjectIds: limits.projects,
          candidateWindow: narrowWindow ? 'narrow' : 'wide',
          ...(useLeases ? { leaseHolder } : {}),
        });
      } catch (err) {
        log.error({ err }, 'could not claim deliveries; retrying at the next poll');
        return;
      }
      claims++;
      claimedTotal += claimed.length;
      // The wide window finds other endpoints' work behind a capped endpoint's backlog. When a
      // full claim came back all one endpoint's, the due work is that endpoint's: the next claim
      // reads (on PostgreSQL: locks) only `limit` rows. Any other endpoint seen widens it again,
      // and a full lane is left out of claims altogether (excludeEndpointIds).
      const first = claimed[0]?.endpointId;
      narrowWindow =
        first !== undefined &&
        claimed.length >= Math.min(limit, limits.rooms[first] ?? perEndpointLimit) &&
        claimed.every((c) => c.endpointId === first);
      lastClaimEmpty = claimed.length === 0;
      if (claimed.length >= limit) wakePending = true;
      moreDue = claimed.length >= limit;
      // A project whose room the claim filled waits, like a full one, until it has drained
      // (afterSlotFreed), so the next claims go to other projects' work.
      const perProject = new Map<ProjectId, number>();
      for (const c of claimed) perProject.set(c.projectId, (perProject.get(c.projectId) ?? 0) + 1);
      for (const [projectId, n] of perProject) {
        const room = limits.projectRooms[projectId];
        if (room !== undefined && n >= room) excludedProjects.add(projectId);
      }
      const rejected = await accept(claimed, nowMs, limits.rooms);
      // When lanes had to give work back, claim less next time (less to release again).
      claimLimit =
        rejected > 0 ? Math.max(16, Math.min(batchSize, 2 * (claimed.length - rejected))) : batchSize;
    }
  }

  /** Puts claimed deliveries in their lanes; releases what lanes cannot take. Returns how many. */
  /** `asked` is what the claim asked per endpoint; null for deliveries handed off by a publisher. */
  async function accept(
    claimed: ClaimedDelivery[],
    nowMs: number,
    asked: Readonly<Record<string, number>> | null,
  ): Promise<number> {
    const release: DeliveryId[] = [];
    const needLease: Array<{ d: ClaimedDelivery; endpoint: CompiledEndpoint }> = [];
    const got = new Map<EndpointId, number>();
    const handedOff = asked === null;
    for (const d of claimed) {
      if (d.endpoint === null || !d.endpoint.enabled || d.endpoint.healthState === 'disabled') {
        if (handedOff) unreserve(d.projectId, d.endpointId);
        failUnattempted(d, nowMs);
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
        if (handedOff) unreserve(d.projectId, d.endpointId);
        release.push(d.id);
        continue;
      }
      if (handedOff) unreserve(d.projectId, d.endpointId);
      if (endpoint === null) {
        failUnattempted(d, nowMs);
        continue;
      }
      if (useLeases && isLimited(endpoint) && !holdsLease(endpoint.id)) {
        needLease.push({ d, endpoint });
        continue;
      }
      place(d, endpoint);
    }
    let lostRace = false;
    if (needLease.length > 0) {
      // Claims skip endpoints other holders have, so this is a free endpoint or a race for one.
      const held = await takeLeases([...new Set(needLease.map((n) => n.endpoint.id))]);
      for (const { d, endpoint } of needLease) {
        if (held?.has(endpoint.id)) place(d, endpoint);
        else {
          release.push(d.id);
          lostRace = true;
        }
      }
    }
    pump();
    released += release.length;
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
      const lane = laneFor(endpoint);
      // A handed-off delivery has its room reserved (just turned into this slot).
      const room = handedOff ? 1 : laneRoom(lane);
      const projectFull = !handedOff && (projectLoad.get(lane.projectId) ?? 0) >= projectCap;
      const n = (got.get(lane.id) ?? 0) + 1;
      got.set(lane.id, n);
      // The claim gave this endpoint all it was asked for: more is probably due. The lane is
      // left out of claims until it has drained, then claims again (see afterSlotFreed).
      if (!handedOff && n >= (asked[lane.id] ?? perEndpointLimit)) lane.excluded = true;
      if (stopping || room <= 0 || projectFull) {
        // Given back; claimed again once this lane or project has drained.
        if (room <= 0) lane.excluded = true;
        if (projectFull) excludedProjects.add(lane.projectId);
        release.push(d.id);
        return;
      }
      lane.queue.push({ delivery: d, endpoint });
      queued++;
      addLoad(lane.projectId, 1);
      markReady(lane);
    }
  }

  // ---- endpoint leases -------------------------------------------------------------------

  function isLimited(endpoint: CompiledEndpoint): boolean {
    return endpoint.maxConcurrency !== null || endpoint.rateLimitPerSecond !== null;
  }

  function holdsLease(id: EndpointId): boolean {
    const lease = heldLeases.get(id);
    return lease !== undefined && lease.validUntil > performance.now();
  }

  /** Takes or extends leases; returns the ids held now, or null when the store did not answer. */
  async function takeLeases(ids: EndpointId[]): Promise<Set<EndpointId> | null> {
    const askedAt = performance.now();
    let got: EndpointId[];
    try {
      got = await store.holdEndpointLeases(leaseHolder, ids, endpointLeaseMs);
    } catch (err) {
      log.error({ err, endpoints: ids.length }, 'could not take endpoint leases');
      return null;
    }
    for (const id of got) {
      const lease = heldLeases.get(id);
      if (lease) lease.validUntil = askedAt + leaseValidMs;
      else heldLeases.set(id, { validUntil: askedAt + leaseValidMs, used: true });
    }
    return new Set(got);
  }

  function renewLeasesSoon(): void {
    if (performance.now() - lastLeaseRunAt >= LEASE_RETRY_MS) startLeaseRun();
  }

  function startLeaseRun(): void {
    if (leaseRun || stopping) return;
    lastLeaseRunAt = performance.now();
    leaseRun = renewLeases()
      .catch((err: unknown) => log.error({ err }, 'endpoint lease renewal failed'))
      .finally(() => {
        leaseRun = null;
        checkIdle();
      });
  }

  /**
   * Every third of a lease: extends the leases of endpoints with work (or sends since the last
   * run), gives up the rest, and takes the lease of any limited lane with work that lost its own.
   * A lane whose lease another holder took gives its waiting deliveries back to be claimed there.
   */
  async function renewLeases(): Promise<void> {
    const keep: EndpointId[] = [];
    const drop: EndpointId[] = [];
    for (const [id, lease] of heldLeases) {
      const lane = lanes.get(id);
      const busy =
        lease.used ||
        (lane !== undefined && (lane.queue.length > 0 || lane.inFlight > 0 || lane.tokenTimer !== undefined));
      lease.used = false;
      (busy ? keep : drop).push(id);
    }
    for (const lane of lanes.values()) {
      if (lane.limited && lane.queue.length > 0 && !heldLeases.has(lane.id)) keep.push(lane.id);
    }
    for (const id of drop) heldLeases.delete(id);
    if (drop.length > 0) await store.releaseEndpointLeases(leaseHolder, drop);
    if (keep.length === 0) return;
    const held = await takeLeases(keep);
    // The store did not answer: the leases stay as they were (sends stop when one would end).
    if (held === null) return;
    const giveBack: DeliveryId[] = [];
    for (const id of keep) {
      const lane = lanes.get(id);
      if (held.has(id)) {
        if (lane) markReady(lane);
        continue;
      }
      heldLeases.delete(id);
      if (!lane) continue;
      for (const job of lane.queue) giveBack.push(job.delivery.id);
      queued -= lane.queue.length;
      addLoad(lane.projectId, -lane.queue.length);
      lane.queue = [];
      dropLaneIfIdle(lane);
    }
    pump();
    if (giveBack.length > 0) {
      log.warn({ deliveries: giveBack.length }, 'endpoint lease taken by another worker; work given back');
      released += giveBack.length;
      await store.releaseDeliveries(giveBack, clock.nowMs());
      wakeDeliveryWorkers(store);
    }
  }

  // ---- idle and lifecycle ----------------------------------------------------------------

  function isIdle(): boolean {
    return (
      claiming === null &&
      !wakePending &&
      lastClaimEmpty &&
      inFlight === 0 &&
      queued === 0 &&
      completions.length === 0 &&
      flushing === null &&
      healthRun === null &&
      notices.size === 0 &&
      handOffs.size === 0 &&
      leaseRun === null &&
      reservedTotal === 0
    );
  }

  function checkIdle(): void {
    if (idleWaiters.length === 0) return;
    if (!lastClaimEmpty && !stopping && claiming === null && !wakePending && inFlight === 0 && queued === 0) {
      // Someone waits for idle and the last claim found work: look once more for anything due.
      wake();
      return;
    }
    if (!isIdle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  return {
    async start() {
      if (started) return;
      started = true;
      setLocalDeliveryWorker(store, local);
      unsubscribeLocal = onDeliveryWake(store, wake);
      unlistenRemote = await listenForRemoteWakes(store, wake);
      pollTimer = setInterval(wake, pollIntervalMs);
      pollTimer.unref();
      if (useLeases) {
        leaseTimer = setInterval(startLeaseRun, endpointLeaseMs / 3);
        leaseTimer.unref();
      }
      wake();
    },
    wake,
    drain() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        lastClaimEmpty = false;
        wake();
        // An endpoint.disabled notice published during the drain wakes us through the publisher.
      });
    },
    async stop() {
      if (!started || stopping) return;
      stopping = true;
      clearLocalDeliveryWorker(store, local);
      unsubscribeLocal?.();
      await unlistenRemote?.();
      if (pollTimer) clearInterval(pollTimer);
      if (retryTimer) clearTimeout(retryTimer.timer);
      if (leaseTimer) clearInterval(leaseTimer);
      await claiming;
      await leaseRun;
      await Promise.all([...handOffs]);
      // Not started yet: give them back so another process can take them at once.
      const giveBack: DeliveryId[] = [];
      for (const lane of lanes.values()) {
        if (lane.tokenTimer) clearTimeout(lane.tokenTimer);
        lane.tokenTimer = undefined;
        for (const job of lane.queue) giveBack.push(job.delivery.id);
        addLoad(lane.projectId, -lane.queue.length);
        queued -= lane.queue.length;
        lane.queue = [];
      }
      ready.length = 0;
      if (giveBack.length > 0) {
        await store
          .releaseDeliveries(giveBack, clock.nowMs())
          .catch((err: unknown) => log.error({ err }, 'could not release deliveries on stop'));
        // Another process's worker takes them now rather than at its next poll.
        wakeDeliveryWorkers(store);
      }
      while (running.size > 0) await Promise.all([...running]);
      while (flushing || healthRun || notices.size > 0) {
        await flushing;
        await healthRun;
        await Promise.all([...notices]);
      }
      if (heldLeases.size > 0) {
        // Nothing is in flight: another process may take these endpoints at once.
        await store
          .releaseEndpointLeases(leaseHolder, [...heldLeases.keys()])
          .catch((err: unknown) => log.error({ err }, 'could not give up endpoint leases on stop'));
        heldLeases.clear();
      }
      await Promise.all([...httpClients.values()].map((c) => c.close()));
      httpClients.clear();
      for (const w of idleWaiters) w();
      idleWaiters = [];
    },
    stats() {
      let deepestLane = 0;
      for (const lane of lanes.values()) deepestLane = Math.max(deepestLane, lane.queueLimit);
      return {
        inFlight,
        queued,
        reserved: reservedTotal,
        released,
        lanes: lanes.size,
        deepestLane,
        claims,
        claimed: claimedTotal,
        handedOff: handedOffTotal,
        attempts,
      };
    },
  };
}
