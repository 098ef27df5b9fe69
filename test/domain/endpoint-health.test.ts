import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createEndpointHealthPolicy,
  DEFAULT_ENDPOINT_HEALTH_POLICY,
  type EndpointHealth,
  type EndpointHealthInput,
  INITIAL_ENDPOINT_HEALTH,
  nextHealth,
} from '../../src/domain/endpoint-health.ts';

const t0 = Date.UTC(2026, 0, 1);
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

function feed(start: EndpointHealth, inputs: EndpointHealthInput[]) {
  let health = start;
  const changes: string[] = [];
  for (const input of inputs) {
    const step = nextHealth(health, input);
    if (step.changed) changes.push(`${health.state}->${step.health.state}:${step.reason}`);
    else assert.equal(step.reason, undefined);
    health = step.health;
  }
  return { health, changes };
}

const failures = (n: number, fromMs: number, everyMs: number): EndpointHealthInput[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'failure', atMs: fromMs + i * everyMs }));

describe('endpoint health', () => {
  it('defaults: 5 consecutive failures, 5 days, 20 failed attempts', () => {
    assert.deepEqual(
      { ...DEFAULT_ENDPOINT_HEALTH_POLICY },
      {
        failingAfterConsecutiveFailures: 5,
        disableAfterNoSuccessMs: 5 * DAY_MS,
        disableAfterFailedAttempts: 20,
      },
    );
  });

  it('active stays active on success and on fewer than 5 failures, counting them', () => {
    const { health, changes } = feed(INITIAL_ENDPOINT_HEALTH, [
      { type: 'success', atMs: t0 },
      ...failures(4, t0 + 1_000, 1_000),
    ]);
    assert.deepEqual(changes, []);
    assert.deepEqual(health, {
      state: 'active',
      consecutiveFailures: 4,
      firstFailureAtMs: t0 + 1_000,
      failedSinceSuccess: 4,
      lastSuccessAtMs: t0,
    });
  });

  it('active → failing on the 5th consecutive failure; a success in between resets the count', () => {
    const interrupted = feed(INITIAL_ENDPOINT_HEALTH, [
      ...failures(4, t0, 1_000),
      { type: 'success', atMs: t0 + 10_000 },
      ...failures(4, t0 + 20_000, 1_000),
    ]);
    assert.deepEqual(interrupted.changes, []);
    assert.equal(interrupted.health.consecutiveFailures, 4);
    assert.equal(interrupted.health.firstFailureAtMs, t0 + 20_000);

    const { health, changes } = feed(INITIAL_ENDPOINT_HEALTH, failures(5, t0, 1_000));
    assert.deepEqual(changes, ['active->failing:consecutive_failures']);
    assert.equal(health.state, 'failing');
  });

  it('failing → active on a success, clearing the counters', () => {
    const failing = feed(INITIAL_ENDPOINT_HEALTH, failures(6, t0, 1_000)).health;
    const step = nextHealth(failing, { type: 'success', atMs: t0 + HOUR_MS });
    assert.equal(step.changed, true);
    assert.equal(step.reason, 'recovered');
    assert.deepEqual(step.health, {
      state: 'active',
      consecutiveFailures: 0,
      firstFailureAtMs: undefined,
      failedSinceSuccess: 0,
      lastSuccessAtMs: t0 + HOUR_MS,
    });
  });

  it('failing → disabled only after 5 days without success AND 20 failed attempts', () => {
    // 25 failures over 4 days: enough attempts, not long enough.
    const notLongEnough = feed(INITIAL_ENDPOINT_HEALTH, failures(25, t0, (4 * DAY_MS) / 24));
    assert.equal(notLongEnough.health.state, 'failing');

    // 10 failures over 6 days: long enough, too few attempts (a quiet endpoint, one bad message).
    const tooFew = feed(INITIAL_ENDPOINT_HEALTH, failures(10, t0, (6 * DAY_MS) / 9));
    assert.equal(tooFew.health.state, 'failing');
    assert.equal(tooFew.health.failedSinceSuccess, 10);

    // 20 failures spread so the 20th lands at exactly 5 days.
    const { health, changes } = feed(INITIAL_ENDPOINT_HEALTH, failures(20, t0, (5 * DAY_MS) / 19));
    assert.deepEqual(changes, [
      'active->failing:consecutive_failures',
      'failing->disabled:sustained_failure',
    ]);
    assert.equal(health.state, 'disabled');
    assert.equal(health.failedSinceSuccess, 20);
  });

  it('any state → disabled at once on 410 Gone', () => {
    const active = nextHealth(INITIAL_ENDPOINT_HEALTH, { type: 'gone', atMs: t0 });
    assert.deepEqual([active.health.state, active.changed, active.reason], ['disabled', true, 'gone']);

    const failing = feed(INITIAL_ENDPOINT_HEALTH, failures(5, t0, 1)).health;
    const fromFailing = nextHealth(failing, { type: 'gone', atMs: t0 + 10 });
    assert.deepEqual(
      [fromFailing.health.state, fromFailing.changed, fromFailing.reason],
      ['disabled', true, 'gone'],
    );

    const again = nextHealth(active.health, { type: 'gone', atMs: t0 + 20 });
    assert.deepEqual([again.health.state, again.changed], ['disabled', false]);
  });

  it('disabled ignores success, failure and 410; only a manual enable revives it, with clean counters', () => {
    const disabled = nextHealth(INITIAL_ENDPOINT_HEALTH, { type: 'gone', atMs: t0 }).health;
    for (const input of [
      { type: 'success', atMs: t0 + 1 },
      { type: 'failure', atMs: t0 + 2 },
      { type: 'gone', atMs: t0 + 3 },
    ] as const) {
      const step = nextHealth(disabled, input);
      assert.equal(step.changed, false, input.type);
      assert.equal(step.health, disabled, `${input.type} leaves it untouched`);
    }
    const sustained = feed(INITIAL_ENDPOINT_HEALTH, failures(20, t0, (5 * DAY_MS) / 19)).health;
    const enabled = nextHealth(sustained, { type: 'manual_enable', atMs: t0 + 6 * DAY_MS });
    assert.equal(enabled.changed, true);
    assert.equal(enabled.reason, 'manual_enable');
    assert.deepEqual(
      { ...enabled.health },
      {
        state: 'active',
        consecutiveFailures: 0,
        firstFailureAtMs: undefined,
        failedSinceSuccess: 0,
        lastSuccessAtMs: undefined,
      },
    );
    const next = nextHealth(enabled.health, { type: 'failure', atMs: t0 + 6 * DAY_MS + 1 });
    assert.equal(next.health.state, 'active', 'one failure after re-enabling does not disable again');
  });

  it('manual enable on failing resets to active; on active it is a no-op', () => {
    const failing = feed(INITIAL_ENDPOINT_HEALTH, failures(5, t0, 1)).health;
    const step = nextHealth(failing, { type: 'manual_enable', atMs: t0 + 10 });
    assert.deepEqual([step.health.state, step.changed, step.reason], ['active', true, 'manual_enable']);
    const noop = nextHealth(INITIAL_ENDPOINT_HEALTH, { type: 'manual_enable', atMs: t0 });
    assert.deepEqual([noop.health.state, noop.changed, noop.reason], ['active', false, undefined]);
  });

  it('keeps the earliest failure and the latest success when reports arrive out of order', () => {
    let h = nextHealth(INITIAL_ENDPOINT_HEALTH, { type: 'failure', atMs: t0 + 5_000 }).health;
    h = nextHealth(h, { type: 'failure', atMs: t0 + 1_000 }).health;
    assert.equal(h.firstFailureAtMs, t0 + 1_000);
    h = nextHealth(h, { type: 'success', atMs: t0 + 9_000 }).health;
    h = nextHealth(h, { type: 'success', atMs: t0 + 8_000 }).health;
    assert.equal(h.lastSuccessAtMs, t0 + 9_000);
  });

  it('takes a custom, validated policy', () => {
    const policy = createEndpointHealthPolicy({
      failingAfterConsecutiveFailures: 1,
      disableAfterFailedAttempts: 2,
    });
    const first = nextHealth(INITIAL_ENDPOINT_HEALTH, { type: 'failure', atMs: t0 }, policy);
    assert.equal(first.health.state, 'failing');
    assert.throws(
      () => createEndpointHealthPolicy({ failingAfterConsecutiveFailures: 0 }),
      /expected an integer >= 1/,
    );
    assert.throws(() => createEndpointHealthPolicy({ disableAfterNoSuccessMs: -1 }), /non-negative/);
  });
});
