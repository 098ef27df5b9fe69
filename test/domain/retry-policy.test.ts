import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HookyardError } from '../../src/domain/errors.ts';
import {
  createRetrySchedule,
  DEFAULT_RETRY_DELAYS_MS,
  DEFAULT_RETRY_SCHEDULE,
  nextRetryDelayMs,
  parseRetryAfterMs,
} from '../../src/domain/retry-policy.ts';

const middle = () => 0.5; // no jitter: (2 * 0.5 - 1) = 0
const lowest = () => 0; // -20%
const highest = () => 0.999_999_999; // just under +20%

/** A small deterministic PRNG (mulberry32) so "random" runs are repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const serverError = { statusCode: 500 } as const;

describe('retry policy', () => {
  it('follows the default schedule: 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then stops', () => {
    const expected = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
    assert.deepEqual([...DEFAULT_RETRY_DELAYS_MS], expected);
    expected.forEach((delayMs, i) => {
      const got = nextRetryDelayMs({
        schedule: DEFAULT_RETRY_SCHEDULE,
        attemptNumber: i + 1,
        failure: serverError,
        random: middle,
      });
      assert.equal(got, delayMs, `after attempt ${i + 1}`);
    });
    const after9 = nextRetryDelayMs({
      schedule: DEFAULT_RETRY_SCHEDULE,
      attemptNumber: 9,
      failure: serverError,
      random: middle,
    });
    assert.equal(after9, null, 'exhausted after the first attempt plus 8 retries');
  });

  it('applies ±20% jitter, within bounds, repeatably for a seeded random', () => {
    const low = nextRetryDelayMs({
      schedule: DEFAULT_RETRY_SCHEDULE,
      attemptNumber: 3,
      failure: serverError,
      random: lowest,
    });
    const high = nextRetryDelayMs({
      schedule: DEFAULT_RETRY_SCHEDULE,
      attemptNumber: 3,
      failure: serverError,
      random: highest,
    });
    assert.equal(low, 240_000);
    assert.equal(high, 360_000);

    const run = (seed: number) => {
      const random = seeded(seed);
      return Array.from({ length: 200 }, () =>
        nextRetryDelayMs({
          schedule: DEFAULT_RETRY_SCHEDULE,
          attemptNumber: 5,
          failure: serverError,
          random,
        }),
      );
    };
    const a = run(42);
    assert.deepEqual(a, run(42));
    for (const d of a) {
      assert.ok(d !== null && d >= 5_760_000 && d <= 8_640_000, `${d} within 2 h ± 20%`);
    }
    assert.ok(new Set(a).size > 100, 'jitter spreads the delays');
    assert.equal(
      nextRetryDelayMs({
        schedule: DEFAULT_RETRY_SCHEDULE,
        attemptNumber: 1,
        failure: serverError,
        random: highest,
      }),
      0,
      'an immediate retry stays immediate',
    );
  });

  it('honours Retry-After on 429 and 503 only, never shortening the schedule, capped at 24 h', () => {
    const base = { schedule: DEFAULT_RETRY_SCHEDULE, attemptNumber: 2, random: middle };
    assert.equal(nextRetryDelayMs({ ...base, failure: { statusCode: 429 }, retryAfterMs: 60_000 }), 60_000);
    assert.equal(nextRetryDelayMs({ ...base, failure: { statusCode: 503 }, retryAfterMs: 60_000 }), 60_000);
    assert.equal(nextRetryDelayMs({ ...base, failure: { statusCode: 500 }, retryAfterMs: 60_000 }), 5_000);
    assert.equal(
      nextRetryDelayMs({ ...base, failure: { statusCode: 429 }, retryAfterMs: 0 }),
      5_000,
      'no hammering',
    );
    assert.equal(
      nextRetryDelayMs({ ...base, failure: { statusCode: 429 }, retryAfterMs: 7 * 24 * 3_600_000 }),
      24 * 3_600_000,
    );
    assert.equal(
      nextRetryDelayMs({ ...base, attemptNumber: 9, failure: { statusCode: 429 }, retryAfterMs: 1_000 }),
      null,
      'Retry-After adds no retries beyond the schedule',
    );
  });

  it('does not retry permanent failures: 410 Gone and an invalid URL', () => {
    const base = { schedule: DEFAULT_RETRY_SCHEDULE, attemptNumber: 1, random: middle };
    assert.equal(nextRetryDelayMs({ ...base, failure: { statusCode: 410 } }), null);
    assert.equal(nextRetryDelayMs({ ...base, failure: { errorKind: 'invalid_url' } }), null);
    assert.equal(nextRetryDelayMs({ ...base, failure: { errorKind: 'timeout' } }), 0);
    assert.equal(nextRetryDelayMs({ ...base, failure: { errorKind: 'egress_blocked' } }), 0);
  });

  it('validates configured schedules and rejects a bad attempt number', () => {
    const custom = createRetrySchedule([1_000, 2_000], { jitterRatio: 0 });
    assert.equal(
      nextRetryDelayMs({ schedule: custom, attemptNumber: 2, failure: serverError, random: lowest }),
      2_000,
    );
    assert.equal(
      nextRetryDelayMs({ schedule: custom, attemptNumber: 3, failure: serverError, random: lowest }),
      null,
    );
    assert.equal(Object.isFrozen(custom.delaysMs), true);
    const none = createRetrySchedule([]);
    assert.equal(
      nextRetryDelayMs({ schedule: none, attemptNumber: 1, failure: serverError, random: lowest }),
      null,
    );

    assert.throws(
      () => createRetrySchedule([1_000, -1]),
      (e: unknown) => {
        assert.ok(e instanceof HookyardError);
        assert.equal(e.code, 'validation_failed');
        assert.match(e.detail, /entry 1 is -1; expected an integer/);
        return true;
      },
    );
    assert.throws(() => createRetrySchedule([1.5]), /entry 0 is 1.5/);
    assert.throws(() => createRetrySchedule([8 * 24 * 3_600_000]), /7 days/);
    assert.throws(() => createRetrySchedule(new Array(51).fill(1)), /at most 50/);
    assert.throws(() => createRetrySchedule([1], { jitterRatio: 1 }), /jitterRatio/);
    assert.throws(
      () => nextRetryDelayMs({ schedule: custom, attemptNumber: 0, failure: serverError, random: lowest }),
      RangeError,
    );
  });
});

describe('Retry-After parsing', () => {
  const nowMs = Date.UTC(2026, 0, 1, 12, 0, 0);

  it('reads delay-seconds', () => {
    assert.equal(parseRetryAfterMs('120', nowMs), 120_000);
    assert.equal(parseRetryAfterMs(' 0 ', nowMs), 0);
  });

  it('reads an HTTP-date relative to now, clamping the past to 0', () => {
    assert.equal(parseRetryAfterMs('Thu, 01 Jan 2026 12:01:30 GMT', nowMs), 90_000);
    assert.equal(parseRetryAfterMs('Thu, 01 Jan 2026 11:00:00 GMT', nowMs), 0);
    assert.equal(parseRetryAfterMs('Thursday, 01-Jan-26 12:00:10 GMT', nowMs), 10_000, 'RFC 850 form');
  });

  it('ignores values it cannot read', () => {
    for (const bad of [undefined, '', 'soon', '1.5', '-3', '12abc', '1e3']) {
      assert.equal(parseRetryAfterMs(bad, nowMs), undefined, String(bad));
    }
  });
});
