import { HookyardError } from './errors.ts';

/**
 * Endpoint health: a pure state machine the delivery worker feeds with the outcome of every
 * attempt. Modelled on Svix, which disables an endpoint after five days of failures.
 *
 * States: `active` (healthy), `failing` (still delivered to, but flagged in the dashboard and
 * announced), `disabled` (no deliveries are attempted; new deliveries wait or are dropped by the
 * caller's rules).
 *
 * Inputs (one per attempt outcome, so counts below are attempts, not messages):
 * - `success`: a 2xx.
 * - `failure`: any other outcome that is not 410 (non-2xx status, timeout, refused, …).
 * - `gone`: a 410 Gone, the receiver's explicit "stop sending".
 * - `manual_enable`: an operator or the project re-enabled the endpoint.
 *
 * Rules:
 * 1. active → failing after `failingAfterConsecutiveFailures` (default 5) failures in a row.
 *    Five rides out one flaky minute (the first retries come at 0 s and 5 s) but flags a receiver
 *    that has been down for a few minutes.
 * 2. failing → disabled when there has been no success for `disableAfterNoSuccessMs` (default
 *    5 days, measured from the first failure since the last success) AND at least
 *    `disableAfterFailedAttempts` (default 20) attempts failed in that time. The count guard
 *    means a low-traffic endpoint is not disabled by one undeliverable message: one message gets
 *    at most 9 attempts under the default schedule, fewer than 20.
 * 3. failing → active on any success; a success always clears the failure counters.
 * 4. any state → disabled at once on `gone` (410).
 * 5. disabled → active only on `manual_enable`; `success`, `failure` and `gone` reported for a
 *    disabled endpoint (in-flight attempts finishing late) change nothing.
 * 6. `manual_enable` on `active`/`failing` also resets to a clean `active`: the operator says the
 *    receiver is fixed, and an endpoint re-enabled after five bad days must not be disabled again
 *    by its very next failure.
 * Attempts can report out of order (several workers), so `firstFailureAtMs` keeps the earliest
 * failure time and `lastSuccessAtMs` the latest success time.
 */

export const ENDPOINT_HEALTH_STATES = ['active', 'failing', 'disabled'] as const;
export type EndpointHealthState = (typeof ENDPOINT_HEALTH_STATES)[number];

export const HEALTH_CHANGE_REASONS = [
  'consecutive_failures',
  'sustained_failure',
  'gone',
  'recovered',
  'manual_enable',
] as const;
export type HealthChangeReason = (typeof HEALTH_CHANGE_REASONS)[number];

export interface EndpointHealth {
  readonly state: EndpointHealthState;
  /** Failures since the last success (or manual enable); drives active → failing. */
  readonly consecutiveFailures: number;
  /** Earliest failure since the last success; `undefined` when there has been none. */
  readonly firstFailureAtMs: number | undefined;
  /** Failed attempts since the last success; guards failing → disabled. */
  readonly failedSinceSuccess: number;
  readonly lastSuccessAtMs: number | undefined;
}

export type EndpointHealthInput =
  | { readonly type: 'success'; readonly atMs: number }
  | { readonly type: 'failure'; readonly atMs: number }
  | { readonly type: 'gone'; readonly atMs: number }
  | { readonly type: 'manual_enable'; readonly atMs: number };

export interface EndpointHealthPolicy {
  readonly failingAfterConsecutiveFailures: number;
  readonly disableAfterNoSuccessMs: number;
  readonly disableAfterFailedAttempts: number;
}

export const DEFAULT_ENDPOINT_HEALTH_POLICY: EndpointHealthPolicy = Object.freeze({
  failingAfterConsecutiveFailures: 5,
  disableAfterNoSuccessMs: 5 * 24 * 60 * 60 * 1000,
  disableAfterFailedAttempts: 20,
});

export const INITIAL_ENDPOINT_HEALTH: EndpointHealth = Object.freeze({
  state: 'active',
  consecutiveFailures: 0,
  firstFailureAtMs: undefined,
  failedSinceSuccess: 0,
  lastSuccessAtMs: undefined,
});

export interface HealthTransition {
  readonly health: EndpointHealth;
  /** True when `health.state` differs from the state passed in. */
  readonly changed: boolean;
  /** Why the state changed; present exactly when `changed`. */
  readonly reason?: HealthChangeReason;
}

/** Validates a configured policy; throws `validation_failed` naming what is allowed. */
export function createEndpointHealthPolicy(
  overrides: Partial<EndpointHealthPolicy> = {},
): EndpointHealthPolicy {
  const policy = { ...DEFAULT_ENDPOINT_HEALTH_POLICY, ...overrides };
  for (const key of ['failingAfterConsecutiveFailures', 'disableAfterFailedAttempts'] as const) {
    if (!Number.isInteger(policy[key]) || policy[key] < 1) {
      throw new HookyardError('validation_failed', `${key} is ${policy[key]}; expected an integer >= 1.`);
    }
  }
  if (!Number.isInteger(policy.disableAfterNoSuccessMs) || policy.disableAfterNoSuccessMs < 0) {
    throw new HookyardError(
      'validation_failed',
      `disableAfterNoSuccessMs is ${policy.disableAfterNoSuccessMs}; expected a non-negative integer.`,
    );
  }
  return Object.freeze(policy);
}

function unchanged(health: EndpointHealth): HealthTransition {
  return { health, changed: false };
}

function cleanActive(health: EndpointHealth): EndpointHealth {
  return {
    state: 'active',
    consecutiveFailures: 0,
    firstFailureAtMs: undefined,
    failedSinceSuccess: 0,
    lastSuccessAtMs: health.lastSuccessAtMs,
  };
}

export function nextHealth(
  health: EndpointHealth,
  input: EndpointHealthInput,
  policy: EndpointHealthPolicy = DEFAULT_ENDPOINT_HEALTH_POLICY,
): HealthTransition {
  switch (input.type) {
    case 'manual_enable': {
      const next = cleanActive(health);
      return health.state === 'active'
        ? { health: next, changed: false }
        : { health: next, changed: true, reason: 'manual_enable' };
    }
    case 'gone':
      if (health.state === 'disabled') return unchanged(health);
      return { health: { ...health, state: 'disabled' }, changed: true, reason: 'gone' };
    case 'success': {
      if (health.state === 'disabled') return unchanged(health);
      const next: EndpointHealth = {
        ...cleanActive(health),
        lastSuccessAtMs: Math.max(health.lastSuccessAtMs ?? input.atMs, input.atMs),
      };
      return health.state === 'failing'
        ? { health: next, changed: true, reason: 'recovered' }
        : { health: next, changed: false };
    }
    case 'failure': {
      if (health.state === 'disabled') return unchanged(health);
      const next: EndpointHealth = {
        state: health.state,
        consecutiveFailures: health.consecutiveFailures + 1,
        firstFailureAtMs: Math.min(health.firstFailureAtMs ?? input.atMs, input.atMs),
        failedSinceSuccess: health.failedSinceSuccess + 1,
        lastSuccessAtMs: health.lastSuccessAtMs,
      };
      const failingForMs = input.atMs - (next.firstFailureAtMs ?? input.atMs);
      if (
        failingForMs >= policy.disableAfterNoSuccessMs &&
        next.failedSinceSuccess >= policy.disableAfterFailedAttempts
      ) {
        return { health: { ...next, state: 'disabled' }, changed: true, reason: 'sustained_failure' };
      }
      if (health.state === 'active' && next.consecutiveFailures >= policy.failingAfterConsecutiveFailures) {
        return { health: { ...next, state: 'failing' }, changed: true, reason: 'consecutive_failures' };
      }
      return { health: next, changed: false };
    }
  }
}
