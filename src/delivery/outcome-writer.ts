import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { EndpointHealthInput } from '../domain/endpoint-health.ts';
import { type AttemptId, type EndpointId, newId } from '../domain/ids.ts';
import type { ClaimedDelivery, DeliveryCompletion } from '../store/delivery-store.ts';
import { GroupCommit } from '../store/group-commit.ts';
import type { Store } from '../store/store.ts';
import type { EndpointHealthRecorder } from './endpoint-health-recorder.ts';
import type { DeliveryHttpResult } from './http-client.ts';
import { decideOutcome, type OutcomePolicy } from './outcome-policy.ts';

/**
 * Records what became of each claimed delivery: its attempt and new state (decideOutcome), written
 * in batches by group commit (one statement on PostgreSQL, one transaction on SQLite's writer
 * thread), then handed to endpoint health. Outcomes are lazily durable and on no one's latency
 * path: a delivery counts as delivered when the receiver answers, not when its outcome is written.
 */

interface PendingCompletion {
  completion: DeliveryCompletion;
  /** Finishing an ordered delivery makes the next one with its key claimable. */
  unblocksOrdered: boolean;
  endpointId: EndpointId;
  /** What endpoint health hears; null for a delivery failed without an attempt. */
  health: EndpointHealthInput | null;
  cleanBefore: boolean;
}

export interface OutcomeWriterDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  health: EndpointHealthRecorder;
  random: () => number;
  /** The outcome policy for a project's retry delays (null = the default); cached, not built per call. */
  policyFor(delaysMs: number[] | null): OutcomePolicy;
  /** Attempts in flight now: a small batch waits for their outcomes only while there are some. */
  inFlight(): number;
  stopping(): boolean;
  /** A batch was written; `earliestRetryAtMs` is the soonest a delivery in it is due again. */
  onWritten(earliestRetryAtMs: number, nowMs: number): void;
  /** A run of writes ended (the worker may have gone idle). */
  onSettled(): void;
}

export interface OutcomeWriterOptions {
  /** Outcomes per batch that end a gathering wait. */
  outcomeBatch: number;
  /** How long a smaller batch may wait for more while attempts are in flight, ms; 0 never waits. */
  outcomeGatherMs: number;
}

export class OutcomeWriter {
  private readonly batches: GroupCommit<PendingCompletion>;
  /** Ends the gathering wait (see gather) once a batch is full. */
  private batchFull: (() => void) | null = null;

  constructor(
    private readonly deps: OutcomeWriterDeps,
    private readonly options: OutcomeWriterOptions,
  ) {
    this.batches = new GroupCommit<PendingCompletion>({
      commit: (batch) => this.write(batch),
      gather: (queued) => (this.shouldGather(queued) ? this.gather() : null),
      onSettled: () => deps.onSettled(),
    });
  }

  get busy(): boolean {
    return this.batches.busy;
  }

  idle(): Promise<void> {
    return this.batches.idle();
  }

  /** The outcome of an attempt that started at `startedAtMs`. */
  recordAttempt(d: ClaimedDelivery, startedAtMs: number, result: DeliveryHttpResult): void {
    const nowMs = this.deps.clock.nowMs();
    const decision = decideOutcome(d, result, this.deps.policyFor(d.retryDelaysMs), nowMs, this.deps.random);
    const claimedHealth = d.endpoint;
    this.add({
      unblocksOrdered: d.orderingKey !== null && decision.status !== 'pending',
      completion: {
        deliveryId: d.id,
        status: decision.status,
        nextAttemptAtMs: decision.nextAttemptAtMs,
        updatedAtMs: nowMs,
        lastFailureKind: decision.lastFailureKind,
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
          nextAttemptAtMs: decision.retryAtMs,
        },
      },
      endpointId: d.endpointId,
      health: decision.health,
      cleanBefore:
        claimedHealth !== null &&
        claimedHealth.healthState === 'active' &&
        claimedHealth.consecutiveFailures === 0,
    });
  }

  /** A delivery that cannot be attempted (endpoint deleted or disabled) fails without an attempt. */
  failUnattempted(d: ClaimedDelivery, nowMs: number): void {
    this.add({
      unblocksOrdered: d.orderingKey !== null,
      completion: {
        deliveryId: d.id,
        status: 'failed',
        nextAttemptAtMs: nowMs,
        updatedAtMs: nowMs,
        lastFailureKind: 'endpoint_disabled',
        attempt: null,
      },
      endpointId: d.endpointId,
      health: null,
      cleanBefore: false,
    });
  }

  private add(pending: PendingCompletion): void {
    this.batches.add(pending);
    if (this.batches.queued >= this.options.outcomeBatch && this.batchFull) {
      this.batchFull();
      this.batchFull = null;
    }
  }

  /**
   * Whether a small batch of outcomes waits for company: only while attempts are in flight (each
   * ends with an outcome, within its endpoint's timeout at the latest), never for an ordered
   * delivery's outcome (the next one with its key waits for it) or while stopping.
   */
  private shouldGather(queued: readonly PendingCompletion[]): boolean {
    if (
      this.options.outcomeGatherMs <= 0 ||
      queued.length >= this.options.outcomeBatch ||
      this.deps.inFlight() === 0 ||
      this.deps.stopping()
    )
      return false;
    for (const c of queued) if (c.unblocksOrdered) return false;
    return true;
  }

  /** Waits until `outcomeBatch` outcomes are waiting or `outcomeGatherMs` has passed. */
  private gather(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.batchFull = null;
        resolve();
      }, this.options.outcomeGatherMs);
      this.batchFull = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async write(batch: PendingCompletion[]): Promise<void> {
    const { store, clock, log, health } = this.deps;
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
    for (const c of batch) {
      if (c.unblocksOrdered) earliestRetryMs = nowMs;
      if (c.completion.status === 'pending')
        earliestRetryMs = Math.min(earliestRetryMs, c.completion.nextAttemptAtMs);
      if (c.health) health.record(c.endpointId, c.health, c.cleanBefore);
    }
    this.deps.onWritten(earliestRetryMs, nowMs);
  }
}
