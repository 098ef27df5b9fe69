import { HookyardError } from './errors.ts';

/**
 * When to try a failed delivery again. Pure: the caller passes the random source, so tests pin
 * the jitter and the worker stays the only place that reads the clock.
 *
 * Rules:
 * - `schedule.delaysMs[i]` is the wait before retry i+1, i.e. after attempt i+1 failed. The
 *   default has 8 entries, so a delivery gets the first attempt plus 8 retries (9 attempts over
 *   ~27.5 hours) before it is exhausted and `nextRetryDelayMs` answers `null`.
 * - Every delay gets ±`jitterRatio` (default 20%) jitter so retries from one outage spread out
 *   instead of arriving at the receiver in one wave.
 * - `Retry-After` counts only on 429 and 503 (the statuses where RFC 9110 gives it that meaning).
 *   It can only lengthen the wait: the delay is max(jittered scheduled delay, Retry-After), with
 *   Retry-After capped at `maxRetryAfterMs` (default 24 h) so a receiver cannot park a delivery
 *   forever. It never shortens the schedule, so a receiver answering `Retry-After: 0` cannot make
 *   us hammer it, and it never adds retries beyond the schedule.
 * - Some failures are permanent and are not retried at all: 410 Gone (the endpoint is being
 *   disabled) and an invalid URL (retrying cannot fix it).
 */

/** Why an HTTP try failed without a status, in the attempt record's words. */
export const DELIVERY_ERROR_KINDS = [
  'timeout',
  'connection_refused',
  'connection_reset',
  'dns',
  'tls',
  'too_large',
  'egress_blocked',
  'invalid_url',
  'other',
] as const;
export type DeliveryErrorKind = (typeof DELIVERY_ERROR_KINDS)[number];

/** What is known about a failed attempt: the status it got, or why it got none. */
export interface DeliveryFailure {
  readonly statusCode?: number;
  readonly errorKind?: DeliveryErrorKind;
}

export interface RetrySchedule {
  /** Wait before each retry, in order; the length is the number of retries. */
  readonly delaysMs: readonly number[];
  /** Fraction of each delay added or removed at random, in [0, 1). */
  readonly jitterRatio: number;
  /** The longest `Retry-After` honoured; longer values are cut to this. */
  readonly maxRetryAfterMs: number;
}

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  0,
  5 * SECOND_MS,
  5 * MINUTE_MS,
  30 * MINUTE_MS,
  2 * HOUR_MS,
  5 * HOUR_MS,
  10 * HOUR_MS,
  10 * HOUR_MS,
]);
export const DEFAULT_JITTER_RATIO = 0.2;
export const DEFAULT_MAX_RETRY_AFTER_MS = 24 * HOUR_MS;

/** Bounds on a configured schedule: enough for any sane policy, small enough to catch typos. */
export const MAX_RETRIES = 50;
export const MAX_RETRY_DELAY_MS = 7 * 24 * HOUR_MS;

/**
 * Builds a validated, frozen schedule. Throws `validation_failed` with what is allowed, so a bad
 * `HOOKYARD_*` setting or API value is refused where it enters.
 */
export function createRetrySchedule(
  delaysMs: readonly number[],
  options: { jitterRatio?: number; maxRetryAfterMs?: number } = {},
): RetrySchedule {
  if (!Array.isArray(delaysMs)) {
    throw new HookyardError('validation_failed', 'retry schedule must be a list of delays in milliseconds.');
  }
  if (delaysMs.length > MAX_RETRIES) {
    throw new HookyardError(
      'validation_failed',
      `retry schedule has ${delaysMs.length} entries; expected at most ${MAX_RETRIES}.`,
    );
  }
  delaysMs.forEach((delayMs, index) => {
    if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_RETRY_DELAY_MS) {
      throw new HookyardError(
        'validation_failed',
        `retry schedule entry ${index} is ${String(delayMs)}; expected an integer number of milliseconds from 0 to ${MAX_RETRY_DELAY_MS} (7 days).`,
      );
    }
  });
  const jitterRatio = options.jitterRatio ?? DEFAULT_JITTER_RATIO;
  if (!Number.isFinite(jitterRatio) || jitterRatio < 0 || jitterRatio >= 1) {
    throw new HookyardError(
      'validation_failed',
      `jitterRatio is ${jitterRatio}; expected a number in [0, 1).`,
    );
  }
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  if (!Number.isInteger(maxRetryAfterMs) || maxRetryAfterMs < 0) {
    throw new HookyardError(
      'validation_failed',
      `maxRetryAfterMs is ${maxRetryAfterMs}; expected a non-negative integer.`,
    );
  }
  return Object.freeze({ delaysMs: Object.freeze([...delaysMs]), jitterRatio, maxRetryAfterMs });
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = createRetrySchedule(DEFAULT_RETRY_DELAYS_MS);

/** True when retrying cannot change the outcome, so the delivery fails at once. */
export function isPermanentFailure(failure: DeliveryFailure): boolean {
  return failure.statusCode === 410 || failure.errorKind === 'invalid_url';
}

/** Statuses whose `Retry-After` we honour. */
function honoursRetryAfter(statusCode: number | undefined): boolean {
  return statusCode === 429 || statusCode === 503;
}

/**
 * The wait before the next attempt, or `null` when the delivery should stop (schedule exhausted
 * or a permanent failure).
 *
 * @param attemptNumber the 1-based number of the attempt that just failed
 * @param random a source of numbers in [0, 1), e.g. `Math.random`
 */
export function nextRetryDelayMs(input: {
  schedule: RetrySchedule;
  attemptNumber: number;
  failure: DeliveryFailure;
  retryAfterMs?: number;
  random: () => number;
}): number | null {
  const { schedule, attemptNumber, failure, retryAfterMs, random } = input;
  if (!Number.isInteger(attemptNumber) || attemptNumber < 1) {
    throw new RangeError(`attemptNumber is ${attemptNumber}; expected an integer >= 1.`);
  }
  if (isPermanentFailure(failure)) return null;
  const scheduledMs = schedule.delaysMs[attemptNumber - 1];
  if (scheduledMs === undefined) return null;

  const r = Math.min(Math.max(random(), 0), 1);
  const jitteredMs = Math.round(scheduledMs * (1 + (2 * r - 1) * schedule.jitterRatio));

  if (retryAfterMs !== undefined && honoursRetryAfter(failure.statusCode) && Number.isFinite(retryAfterMs)) {
    const askedMs = Math.min(Math.max(Math.ceil(retryAfterMs), 0), schedule.maxRetryAfterMs);
    return Math.max(jitteredMs, askedMs);
  }
  return jitteredMs;
}

const DELAY_SECONDS = /^\s*(\d+)\s*$/;

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date, which is
 * turned into a delay from `nowMs`. A date in the past gives 0. Anything unreadable gives
 * `undefined`, so the caller falls back to the schedule instead of trusting a garbled value.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const seconds = DELAY_SECONDS.exec(value);
  if (seconds) {
    const n = Number(seconds[1]);
    return Number.isSafeInteger(n * SECOND_MS) ? n * SECOND_MS : undefined;
  }
  // An HTTP-date always names a day or month, so requiring a letter keeps Date.parse from
  // accepting bare numbers such as "1.5" or "-3" as years.
  if (!/[a-z]/i.test(value)) return undefined;
  const atMs = Date.parse(value);
  if (Number.isNaN(atMs)) return undefined;
  return Math.max(0, atMs - nowMs);
}
