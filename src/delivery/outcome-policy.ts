import type { EndpointHealthInput } from '../domain/endpoint-health.ts';
import { nextRetryDelayMs, parseRetryAfterMs, type RetrySchedule } from '../domain/retry-policy.ts';
import type { ClaimedDelivery, DeliveryFailureKind, DeliveryStatus } from '../store/delivery-store.ts';
import type { DeliveryHttpResult } from './http-client.ts';

/**
 * What an attempt's result means for its delivery, as one pure function: succeeded on a 2xx;
 * otherwise retried on the project's schedule (a `Retry-After` the receiver sent counts; a
 * permanent failure or a spent schedule fails it, see retry-policy.ts), and what the endpoint's
 * health hears (410 Gone is its own input: it disables at once).
 */

export interface OutcomePolicy {
  /** The delivery's project's schedule (or the default). */
  schedule: RetrySchedule;
}

export interface OutcomeDecision {
  status: DeliveryStatus;
  /** When the retry is due for a pending outcome; now for a final one. */
  nextAttemptAtMs: number;
  /** The retry this attempt scheduled; null when none was (the attempt record keeps it). */
  retryAtMs: number | null;
  lastFailureKind: DeliveryFailureKind | null;
  health: EndpointHealthInput;
}

export function decideOutcome(
  delivery: Pick<ClaimedDelivery, 'schedulePosition'>,
  result: DeliveryHttpResult,
  policy: OutcomePolicy,
  nowMs: number,
  random: () => number,
): OutcomeDecision {
  if (result.ok) {
    return {
      status: 'succeeded',
      nextAttemptAtMs: nowMs,
      retryAtMs: null,
      lastFailureKind: null,
      health: { type: 'success', atMs: nowMs },
    };
  }
  const failure = {
    ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
    ...(result.errorKind !== undefined ? { errorKind: result.errorKind } : {}),
  };
  const retryAfterMs = parseRetryAfterMs(result.responseHeaders?.['retry-after'], nowMs);
  const delayMs = nextRetryDelayMs({
    schedule: policy.schedule,
    attemptNumber: delivery.schedulePosition + 1,
    failure,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    random,
  });
  const retryAtMs = delayMs === null ? null : nowMs + delayMs;
  return {
    status: retryAtMs === null ? 'failed' : 'pending',
    nextAttemptAtMs: retryAtMs ?? nowMs,
    retryAtMs,
    lastFailureKind: result.errorKind ?? 'http_status',
    health: { type: result.statusCode === 410 ? 'gone' : 'failure', atMs: nowMs },
  };
}
