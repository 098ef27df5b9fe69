/**
 * A token bucket per key (an endpoint id), so a project's rate limit on an endpoint holds however
 * many deliveries are due. Time comes in as `nowMs`, so tests drive it with a fake clock.
 *
 * Each bucket holds up to `ratePerSecond * burstSeconds` tokens (at least 1) and refills at
 * `ratePerSecond`. A full bucket carries no information (a fresh one is identical), so idle,
 * refilled buckets are evicted; when more than `maxBuckets` keys are live at once the least
 * recently used bucket is dropped, which at worst lets that key burst once more.
 *
 * One process, one limiter. With several worker processes an endpoint's limit still holds once:
 * only the holder of the endpoint's lease sends for it (src/delivery/endpoint-lease-keeper.ts).
 */

interface Bucket {
  tokens: number;
  updatedAtMs: number;
  ratePerSecond: number;
  capacity: number;
}

export interface RateLimiterOptions {
  /** Buckets kept at most; past this the least recently used are dropped. Default 100 000. */
  readonly maxBuckets?: number;
  /** Burst size in seconds of rate. Default 1: a 10/s endpoint may get 10 at once. */
  readonly burstSeconds?: number;
}

const IDLE_CHECKS_PER_INSERT = 2;

export class TokenBucketRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxBuckets: number;
  private readonly burstSeconds: number;

  constructor(options: RateLimiterOptions = {}) {
    this.maxBuckets = options.maxBuckets ?? 100_000;
    this.burstSeconds = options.burstSeconds ?? 1;
    if (!Number.isInteger(this.maxBuckets) || this.maxBuckets < 1) {
      throw new RangeError(`maxBuckets is ${this.maxBuckets}; expected an integer >= 1.`);
    }
    if (!(this.burstSeconds > 0) || !Number.isFinite(this.burstSeconds)) {
      throw new RangeError(`burstSeconds is ${this.burstSeconds}; expected a positive number.`);
    }
  }

  /** Live buckets, for tests and metrics. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes one token for `key`. Answers 0 when it was taken (send now), otherwise the whole
   * milliseconds until a token will be there (send later; nothing was taken).
   */
  tryTake(key: string, ratePerSecond: number, nowMs: number): number {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`ratePerSecond is ${ratePerSecond}; expected a positive number.`);
    }
    const capacity = Math.max(1, ratePerSecond * this.burstSeconds);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      this.makeRoom(nowMs);
      bucket = { tokens: capacity, updatedAtMs: nowMs, ratePerSecond, capacity };
    } else {
      // Re-inserting keeps Map order = least recently used first, which eviction walks.
      this.buckets.delete(key);
      this.refill(bucket, nowMs);
      if (bucket.ratePerSecond !== ratePerSecond) {
        bucket.ratePerSecond = ratePerSecond;
        bucket.capacity = capacity;
        bucket.tokens = Math.min(bucket.tokens, capacity);
      }
    }
    this.buckets.set(key, bucket);

    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 1000) / ratePerSecond));
  }

  /** Drops every bucket that has refilled completely (equivalent to no bucket); O(n), for a periodic sweep. */
  evictIdle(nowMs: number): number {
    let evicted = 0;
    for (const [key, bucket] of this.buckets) {
      this.refill(bucket, nowMs);
      if (bucket.tokens >= bucket.capacity) {
        this.buckets.delete(key);
        evicted++;
      }
    }
    return evicted;
  }

  private refill(bucket: Bucket, nowMs: number): void {
    // A clock that steps backwards must not mint or destroy tokens.
    const elapsedMs = Math.max(0, nowMs - bucket.updatedAtMs);
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (elapsedMs * bucket.ratePerSecond) / 1000);
    bucket.updatedAtMs = Math.max(bucket.updatedAtMs, nowMs);
  }

  /**
   * Called before a new bucket is added. Idle buckets drift to the least recently used end, so
   * looking at a couple of the oldest per insert keeps the map near the number of active keys in
   * O(1); the hard cap then drops the oldest even if it still holds state.
   */
  private makeRoom(nowMs: number): void {
    let looked = 0;
    for (const [key, bucket] of this.buckets) {
      if (looked++ >= IDLE_CHECKS_PER_INSERT) break;
      this.refill(bucket, nowMs);
      if (bucket.tokens >= bucket.capacity) this.buckets.delete(key);
    }
    while (this.buckets.size >= this.maxBuckets) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) break;
      this.buckets.delete(oldest.value);
    }
  }
}

export function createRateLimiter(options: RateLimiterOptions = {}): TokenBucketRateLimiter {
  return new TokenBucketRateLimiter(options);
}
