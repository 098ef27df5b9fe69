import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../src/domain/clock.ts';
import { createRateLimiter } from '../../src/domain/rate-limiter.ts';

describe('token bucket rate limiter', () => {
  it('allows a burst of one second of rate, then paces at the rate', () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter();
    for (let i = 0; i < 10; i++) assert.equal(limiter.tryTake('ep_a', 10, clock.nowMs()), 0, `burst ${i}`);
    assert.equal(limiter.tryTake('ep_a', 10, clock.nowMs()), 100, 'next token in 100 ms');
    clock.advance(40);
    assert.equal(limiter.tryTake('ep_a', 10, clock.nowMs()), 60, 'a refused take consumes nothing');
    clock.advance(60);
    assert.equal(limiter.tryTake('ep_a', 10, clock.nowMs()), 0);
    assert.equal(limiter.tryTake('ep_a', 10, clock.nowMs()), 100);
  });

  it('keeps keys apart', () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter();
    assert.equal(limiter.tryTake('ep_a', 1, clock.nowMs()), 0);
    assert.equal(limiter.tryTake('ep_a', 1, clock.nowMs()), 1_000);
    assert.equal(limiter.tryTake('ep_b', 1, clock.nowMs()), 0);
  });

  it('handles fractional rates (0.5/s = one every 2 s) and rate changes', () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter();
    assert.equal(limiter.tryTake('ep_a', 0.5, clock.nowMs()), 0);
    assert.equal(limiter.tryTake('ep_a', 0.5, clock.nowMs()), 2_000);
    clock.advance(1_000);
    assert.equal(limiter.tryTake('ep_a', 0.5, clock.nowMs()), 1_000);
    // Raised to 100/s: the half token left refills at the new rate.
    assert.equal(limiter.tryTake('ep_a', 100, clock.nowMs()), 5);
  });

  it('does not mint tokens when the clock steps backwards', () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter();
    assert.equal(limiter.tryTake('ep_a', 1, clock.nowMs()), 0);
    clock.advance(-60_000);
    assert.equal(limiter.tryTake('ep_a', 1, clock.nowMs()), 1_000);
  });

  it('bounds memory: idle buckets are evicted, and the least recently used past the cap', () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter({ maxBuckets: 100 });
    for (let i = 0; i < 1_000; i++) {
      limiter.tryTake(`ep_${i}`, 1, clock.nowMs());
      clock.advance(10);
    }
    assert.ok(limiter.size <= 100, `size ${limiter.size}`);
    clock.advance(5_000);
    const live = limiter.size;
    assert.equal(limiter.evictIdle(clock.nowMs()), live, 'every refilled bucket goes');
    assert.equal(limiter.size, 0);

    // Steady churn of one-off keys: idle ones fall off the old end without a full sweep.
    const churn = createRateLimiter({ maxBuckets: 10_000 });
    for (let i = 0; i < 5_000; i++) {
      churn.tryTake(`ep_${i}`, 100, clock.nowMs());
      clock.advance(50);
    }
    assert.ok(churn.size < 100, `size ${churn.size}`);
  });

  it('rejects a non-positive rate', () => {
    const limiter = createRateLimiter();
    assert.throws(() => limiter.tryTake('ep_a', 0, 0), /expected a positive number/);
    assert.throws(() => limiter.tryTake('ep_a', Number.NaN, 0), /expected a positive number/);
  });
});
