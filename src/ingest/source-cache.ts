import type { SourceId } from '../domain/ids.ts';

/**
 * Compiled sources by id, so the ingest path opens secrets and compiles verifiers once per source
 * rather than once per request. Entries expire after ttlMs so a change made by another process
 * (PostgreSQL deployments) is seen within that time; this process's own changes invalidate at
 * once. Misses are cached too (briefly), so a flood at an unknown id does not reach the database
 * on every request. Bounded: the oldest entry goes when full.
 */
export class SourceCache<T> {
  private readonly entries = new Map<SourceId, { value: T | null; expiresAtMs: number }>();
  private readonly loading = new Map<SourceId, Promise<T | null>>();

  constructor(
    private readonly load: (id: SourceId) => Promise<T | null>,
    private readonly options: { ttlMs: number; missTtlMs: number; maxEntries: number; now: () => number },
  ) {}

  /** The cached value when fresh; undefined when it must be loaded (then call get). */
  peek(id: SourceId): T | null | undefined {
    const e = this.entries.get(id);
    if (e && e.expiresAtMs > this.options.now()) return e.value;
    return undefined;
  }

  async get(id: SourceId): Promise<T | null> {
    const hit = this.peek(id);
    if (hit !== undefined) return hit;
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(id).then(
        (value) => {
          this.loading.delete(id);
          if (this.entries.size >= this.options.maxEntries) {
            const oldest = this.entries.keys().next().value;
            if (oldest !== undefined) this.entries.delete(oldest);
          }
          const ttl = value === null ? this.options.missTtlMs : this.options.ttlMs;
          this.entries.set(id, { value, expiresAtMs: this.options.now() + ttl });
          return value;
        },
        (err) => {
          this.loading.delete(id);
          throw err;
        },
      );
      this.loading.set(id, pending);
    }
    return pending;
  }

  invalidate(id: SourceId): void {
    this.entries.delete(id);
  }
}
