import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeliveryHttpResult } from '../../src/delivery/http-client.ts';
import { decideOutcome, type OutcomePolicy } from '../../src/delivery/outcome-policy.ts';
import { createRetrySchedule } from '../../src/domain/retry-policy.ts';

const NOW = 1_700_000_000_000;
const middle = () => 0.5; // no jitter
const policy: OutcomePolicy = { schedule: createRetrySchedule([1_000, 60_000], { jitterRatio: 0.2 }) };
const at = (schedulePosition: number) => ({ schedulePosition });
const failed = (r: Partial<DeliveryHttpResult>): DeliveryHttpResult => ({ ok: false, durationMs: 3, ...r });

describe('decideOutcome', () => {
  it('a 2xx succeeds, schedules nothing and tells health of a success', () => {
    const d = decideOutcome(at(0), { ok: true, statusCode: 204, durationMs: 3 }, policy, NOW, middle);
    assert.deepEqual(d, {
      status: 'succeeded',
      nextAttemptAtMs: NOW,
      retryAtMs: null,
      lastFailureKind: null,
      health: { type: 'success', atMs: NOW },
    });
  });

  it('a 500 is retried at the schedule position after the attempts made since queuing', () => {
    const first = decideOutcome(at(0), failed({ statusCode: 500 }), policy, NOW, middle);
    assert.equal(first.status, 'pending');
    assert.equal(first.retryAtMs, NOW + 1_000);
    assert.equal(first.nextAttemptAtMs, NOW + 1_000);
    assert.equal(first.lastFailureKind, 'http_status');
    assert.deepEqual(first.health, { type: 'failure', atMs: NOW });
    const second = decideOutcome(at(1), failed({ statusCode: 500 }), policy, NOW, middle);
    assert.equal(second.retryAtMs, NOW + 60_000);
  });

  it('fails once the schedule is spent, due now with no retry', () => {
    const d = decideOutcome(at(2), failed({ statusCode: 502 }), policy, NOW, middle);
    assert.equal(d.status, 'failed');
    assert.equal(d.retryAtMs, null);
    assert.equal(d.nextAttemptAtMs, NOW);
  });

  it('jitters the delay with the random source it is given', () => {
    const low = decideOutcome(at(1), failed({ statusCode: 500 }), policy, NOW, () => 0);
    const high = decideOutcome(at(1), failed({ statusCode: 500 }), policy, NOW, () => 0.999_999);
    assert.equal(low.retryAtMs, NOW + 48_000);
    assert.ok((high.retryAtMs ?? 0) > NOW + 71_000 && (high.retryAtMs ?? 0) <= NOW + 72_000);
  });

  it('honours a 429 Retry-After longer than the scheduled delay', () => {
    const d = decideOutcome(
      at(0),
      failed({ statusCode: 429, responseHeaders: { 'retry-after': '30' } }),
      policy,
      NOW,
      middle,
    );
    assert.equal(d.retryAtMs, NOW + 30_000);
  });

  it('410 Gone fails at once and tells health it is gone', () => {
    const d = decideOutcome(at(0), failed({ statusCode: 410 }), policy, NOW, middle);
    assert.equal(d.status, 'failed');
    assert.deepEqual(d.health, { type: 'gone', atMs: NOW });
  });

  it('a failure without a status keeps its error kind', () => {
    const d = decideOutcome(at(0), failed({ errorKind: 'timeout' }), policy, NOW, middle);
    assert.equal(d.status, 'pending');
    assert.equal(d.lastFailureKind, 'timeout');
    assert.deepEqual(d.health, { type: 'failure', atMs: NOW });
  });
});
