import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import { DEFAULT_ENDPOINT_HEALTH_POLICY, type EndpointHealthPolicy } from '../domain/endpoint-health.ts';
import type { DeliveryId } from '../domain/ids.ts';
import { createRetrySchedule, DEFAULT_RETRY_SCHEDULE, type RetrySchedule } from '../domain/retry-policy.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { Store } from '../store/store.ts';
import { CompiledEndpointCache, liveSigningKeys } from './compiled-endpoint.ts';
import { DeliveryClaimer, type WorkerCounters } from './delivery-claimer.ts';
import {
  clearLocalDeliveryWorker,
  type LocalDeliveryWorker,
  listenForRemoteWakes,
  onDeliveryWake,
  setLocalDeliveryWorker,
  wakeDeliveryWorkers,
} from './delivery-wakeup.ts';
import { narrowEgressAllowList, parseEgressAllowList } from './egress-guard.ts';
import { EndpointHealthRecorder } from './endpoint-health-recorder.ts';
import { EndpointLeaseKeeper } from './endpoint-lease-keeper.ts';
import { createDeliveryHttpClient, type DeliveryHttpClient, type DeliveryHttpResult } from './http-client.ts';
import type { Cidr } from './ip-address.ts';
import { type Job, type Lane, LaneScheduler } from './lane-scheduler.ts';
import type { OutcomePolicy } from './outcome-policy.ts';
import { OutcomeWriter } from './outcome-writer.ts';
import type { Publisher } from './publisher.ts';
import { signDelivery } from './signer.ts';

/**
 * The delivery worker: claims due deliveries in batches, sends each as a signed POST, records
 * the attempt, and then marks the delivery succeeded, schedules its retry, or fails it; and feeds
 * every outcome to the endpoint's health. This file wires the parts and owns start, drain and
 * stop; each part is one concept:
 * - delivery-claimer.ts: claims and publishers' hand-offs bring deliveries in (its modes are
 *   documented there);
 * - lane-scheduler.ts: which delivery is sent next (lanes per endpoint, limits, fair shares), no I/O;
 * - outcome-policy.ts: what a result means for its delivery (decideOutcome, pure);
 * - outcome-writer.ts: outcomes written in batches (group commit);
 * - endpoint-health-recorder.ts: outcomes folded into endpoint health, compare-and-set;
 * - endpoint-lease-keeper.ts: across processes, one sender per limited endpoint.
 * Wake-ups are immediate (publish signal, LISTEN/NOTIFY) with a poll as fallback for retries
 * coming due and for leases that ran out.
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
   * (lane-scheduler.ts, deepenIfStarved). Default 2 ms.
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
   * Endpoint leases (see the top of this file). Default: the store's capability (on where several
   * processes may share it).
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
  /** The longest waiting list a lane may hold now (fast lanes deepen; lane-scheduler.ts). */
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

const MONOTONIC = {
  nowMs: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (timer: unknown) => clearTimeout(timer as NodeJS.Timeout),
};

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
  const maxBuffered = Math.max(2 * concurrency, batchSize);
  const projectShare = options.maxProjectShare ?? 0.5;
  const projectCap = Math.max(1, Math.floor(maxBuffered * projectShare));
  const laneQueueDefault = Math.min(64, Math.floor(projectCap / 4));
  /** What a claim takes per endpoint at most: what a fresh lane with default limits can hold. */
  const perEndpointLimit = Math.max(1, defaultEndpointConcurrency + laneQueueDefault);
  const defaultPolicy: OutcomePolicy = { schedule: options.retrySchedule ?? DEFAULT_RETRY_SCHEDULE };
  const operatorAllow = parseEgressAllowList(options.egressAllow ?? []);
  const createHttpClient =
    options.createHttpClient ??
    ((allow: readonly Cidr[]) =>
      createDeliveryHttpClient({
        egress: { allow },
        connectionsPerOrigin: options.connectionsPerOrigin ?? 64,
      }));

  const log = logger.child({ component: 'delivery-worker' });
  const endpoints = new CompiledEndpointCache((id) => store.getEndpointForDelivery(id), secrets);
  const httpClients = new Map<string, DeliveryHttpClient>();
  const policies = new Map<string, OutcomePolicy>();
  const counters: WorkerCounters = { claims: 0, claimed: 0, handedOff: 0, attempts: 0, released: 0 };
  const running = new Set<Promise<void>>();
  let started = false;
  let stopping = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let retryTimer: { timer: NodeJS.Timeout; atMs: number } | undefined;
  let unsubscribeLocal: (() => void) | undefined;
  let unlistenRemote: (() => Promise<void>) | undefined;
  let idleWaiters: Array<() => void> = [];

  const scheduler: LaneScheduler = new LaneScheduler(
    {
      concurrency,
      maxBuffered,
      projectCap,
      projectInFlightCap: Math.max(1, Math.floor(concurrency * projectShare)),
      defaultEndpointConcurrency,
      laneQueueDefault,
      /** The deepest a fast lane's waiting list gets: three quarters of its project's share. */
      laneQueueDeepest: Math.max(laneQueueDefault, Math.floor((projectCap * 3) / 4)),
      perEndpointLimit,
      leaseMs,
      fastAttemptMs: options.fastAttemptMs ?? 2,
    },
    MONOTONIC,
    {
      mayStart: (lane) => leases.mayStart(lane),
      start: (lane, job) => {
        const p = send(lane, job);
        running.add(p);
        void p.finally(() => running.delete(p));
      },
    },
  );
  const leases: EndpointLeaseKeeper = new EndpointLeaseKeeper(
    {
      store,
      clock,
      log,
      scheduler,
      onReleased: (n) => {
        counters.released += n;
      },
      onSettled: checkIdle,
    },
    options.endpointLeases ?? store.capabilities.endpointLeases,
    options.endpointLeaseMs ?? 30_000,
  );
  const health = new EndpointHealthRecorder({
    store,
    clock,
    log,
    publisher,
    policy: options.healthPolicy ?? DEFAULT_ENDPOINT_HEALTH_POLICY,
    onDisabled: (endpointId) => {
      const lane = scheduler.lanes.get(endpointId);
      if (lane) {
        scheduler.clearQueue(lane);
        scheduler.dropLaneIfIdle(lane);
      }
    },
    onSettled: checkIdle,
  });
  const outcomes = new OutcomeWriter(
    {
      store,
      clock,
      log,
      health,
      random: options.random ?? Math.random,
      policyFor,
      inFlight: () => scheduler.inFlight,
      stopping: () => stopping,
      onWritten: (earliestRetryMs, nowMs) => {
        if (earliestRetryMs <= nowMs) wake();
        else if (earliestRetryMs - nowMs < pollIntervalMs) wakeAt(earliestRetryMs, nowMs);
      },
      onSettled: checkIdle,
    },
    { outcomeBatch: options.outcomeBatch ?? 128, outcomeGatherMs: options.outcomeGatherMs ?? 10 },
  );
  const claimer = new DeliveryClaimer(
    {
      store,
      clock,
      log,
      scheduler,
      leases,
      outcomes,
      endpoints,
      counters,
      accepting: () => started && !stopping,
      stopping: () => stopping,
      onSettled: checkIdle,
    },
    { batchSize, leaseMs, maxBuffered, perEndpointLimit },
  );
  const local: LocalDeliveryWorker = {
    leaseMs,
    reserve: (projectId, endpointId, limited) => claimer.reserve(projectId, endpointId, limited),
    handOff: (deliveries) => claimer.handOff(deliveries),
    cancel: (reservations) => claimer.cancel(reservations),
  };

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

  function policyFor(delaysMs: number[] | null): OutcomePolicy {
    if (delaysMs === null) return defaultPolicy;
    const key = delaysMs.join(',');
    let policy = policies.get(key);
    if (!policy) {
      let schedule: RetrySchedule;
      try {
        schedule = createRetrySchedule(delaysMs);
      } catch {
        schedule = defaultPolicy.schedule;
      }
      policy = { schedule };
      if (policies.size > 1000) policies.clear();
      policies.set(key, policy);
    }
    return policy;
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
    counters.attempts++;
    scheduler.finished(lane, result.durationMs, claimer.claiming !== null || claimer.moreDue);
    outcomes.recordAttempt(d, startedAtMs, result);
    scheduler.markReady(lane);
    scheduler.pump();
    if (scheduler.reopen(lane) || claimer.onSlotFreed()) wake();
    scheduler.dropLaneIfIdle(lane);
    checkIdle();
  }

  function wake(): void {
    claimer.wake();
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

  // ---- idle and lifecycle ----------------------------------------------------------------

  function isIdle(): boolean {
    return (
      claimer.claiming === null &&
      !claimer.wakePending &&
      claimer.lastClaimEmpty &&
      scheduler.inFlight === 0 &&
      scheduler.queued === 0 &&
      !outcomes.busy &&
      !health.busy &&
      claimer.handOffs.size === 0 &&
      !leases.busy &&
      scheduler.reservedTotal === 0
    );
  }

  function checkIdle(): void {
    if (idleWaiters.length === 0) return;
    if (
      !claimer.lastClaimEmpty &&
      !stopping &&
      claimer.claiming === null &&
      !claimer.wakePending &&
      scheduler.inFlight === 0 &&
      scheduler.queued === 0
    ) {
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
      leases.start();
      wake();
    },
    wake,
    drain() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        claimer.lastClaimEmpty = false;
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
      leases.stop();
      await claimer.claiming;
      await leases.settled();
      await Promise.all([...claimer.handOffs]);
      // Not started yet: give them back so another process can take them at once.
      const giveBack: DeliveryId[] = scheduler.stop().map((job) => job.delivery.id);
      if (giveBack.length > 0) {
        await store
          .releaseDeliveries(giveBack, clock.nowMs())
          .catch((err: unknown) => log.error({ err }, 'could not release deliveries on stop'));
        // Another process's worker takes them now rather than at its next poll.
        wakeDeliveryWorkers(store);
      }
      while (running.size > 0) await Promise.all([...running]);
      while (outcomes.busy || health.busy) {
        await outcomes.idle();
        await health.settled();
      }
      await leases.releaseAll();
      await Promise.all([...httpClients.values()].map((c) => c.close()));
      httpClients.clear();
      for (const w of idleWaiters) w();
      idleWaiters = [];
    },
    stats() {
      return {
        inFlight: scheduler.inFlight,
        queued: scheduler.queued,
        reserved: scheduler.reservedTotal,
        released: counters.released,
        lanes: scheduler.lanes.size,
        deepestLane: scheduler.deepestLane(),
        claims: counters.claims,
        claimed: counters.claimed,
        handedOff: counters.handedOff,
        attempts: counters.attempts,
      };
    },
  };
}
