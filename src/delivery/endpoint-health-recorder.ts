import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import {
  type EndpointHealth,
  type EndpointHealthInput,
  type EndpointHealthPolicy,
  type HealthChangeReason,
  nextHealth,
} from '../domain/endpoint-health.ts';
import type { EndpointId } from '../domain/ids.ts';
import type { EndpointHealthRecord } from '../store/delivery-store.ts';
import type { Store } from '../store/store.ts';
import type { Publisher } from './publisher.ts';

/**
 * Feeds attempt outcomes to their endpoint's health (src/domain/endpoint-health.ts). Inputs are
 * folded per endpoint and written with compare-and-set, so several workers never lose one. When
 * health disables an endpoint, what waits for it fails (`recover` replays it once it is enabled)
 * and the project's other endpoints get an `endpoint.disabled` notice.
 */

/** The operational event announced to a project's other endpoints when health disables one. */
export const ENDPOINT_DISABLED_EVENT = 'endpoint.disabled';

const SUCCESS_WRITE_INTERVAL_MS = 60_000;

function sameHealth(a: EndpointHealthRecord, b: Omit<EndpointHealthRecord, 'version'>): boolean {
  return (
    a.state === b.state &&
    a.consecutiveFailures === b.consecutiveFailures &&
    a.firstFailureAtMs === b.firstFailureAtMs &&
    a.failedSinceSuccess === b.failedSinceSuccess &&
    a.lastSuccessAtMs === b.lastSuccessAtMs &&
    a.changedAtMs === b.changedAtMs &&
    a.reason === b.reason
  );
}

export interface EndpointHealthRecorderDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  /** Publishes the `endpoint.disabled` notice. */
  publisher: Publisher;
  policy: EndpointHealthPolicy;
  /** Health disabled the endpoint: this process drops what it holds for it. */
  onDisabled(endpointId: EndpointId): void;
  /** A run of writes or a notice ended (the worker may have gone idle). */
  onSettled(): void;
}

export class EndpointHealthRecorder {
  private readonly lastSuccessWrite = new Map<EndpointId, number>();
  private readonly inbox = new Map<EndpointId, EndpointHealthInput[]>();
  private readonly notices = new Set<Promise<unknown>>();
  private run: Promise<void> | null = null;

  constructor(private readonly deps: EndpointHealthRecorderDeps) {}

  get busy(): boolean {
    return this.run !== null || this.notices.size > 0;
  }

  /** `cleanBefore`: the endpoint was active with no failures when the delivery was claimed. */
  record(endpointId: EndpointId, input: EndpointHealthInput, cleanBefore: boolean): void {
    if (input.type === 'success' && cleanBefore) {
      // Nothing to heal: only lastSuccessAtMs would move, so it is written at most once a minute.
      const last = this.lastSuccessWrite.get(endpointId);
      if (last !== undefined && input.atMs - last < SUCCESS_WRITE_INTERVAL_MS) return;
      if (this.lastSuccessWrite.size > 10_000) this.lastSuccessWrite.clear();
      this.lastSuccessWrite.set(endpointId, input.atMs);
    }
    const inputs = this.inbox.get(endpointId);
    if (inputs) inputs.push(input);
    else this.inbox.set(endpointId, [input]);
    this.startRun();
  }

  /** Resolves once no write or notice is pending. */
  async settled(): Promise<void> {
    while (this.run || this.notices.size > 0) {
      await this.run;
      await Promise.all([...this.notices]);
    }
  }

  private startRun(): void {
    if (this.run) return;
    this.run = this.writeAll().finally(() => {
      this.run = null;
      if (this.inbox.size > 0) this.startRun();
      else this.deps.onSettled();
    });
  }

  private async writeAll(): Promise<void> {
    while (this.inbox.size > 0) {
      const work = [...this.inbox.entries()];
      this.inbox.clear();
      for (const [endpointId, inputs] of work) {
        try {
          await this.apply(endpointId, inputs);
        } catch (err) {
          this.deps.log.error({ err, endpointId }, 'could not update endpoint health');
        }
      }
    }
  }

  private async apply(endpointId: EndpointId, inputs: EndpointHealthInput[]): Promise<void> {
    const { store, policy } = this.deps;
    for (let round = 0; round < 20; round++) {
      const stored = await store.getEndpointHealth(endpointId);
      if (!stored) return;
      let health: EndpointHealth = {
        state: stored.state,
        consecutiveFailures: stored.consecutiveFailures,
        firstFailureAtMs: stored.firstFailureAtMs ?? undefined,
        failedSinceSuccess: stored.failedSinceSuccess,
        lastSuccessAtMs: stored.lastSuccessAtMs ?? undefined,
      };
      let changedAtMs = stored.changedAtMs;
      let reason = stored.reason;
      const changes: Array<{ reason: HealthChangeReason; atMs: number }> = [];
      for (const input of inputs) {
        const t = nextHealth(health, input, policy);
        health = t.health;
        if (t.changed && t.reason) {
          changedAtMs = input.atMs;
          reason = t.reason;
          changes.push({ reason: t.reason, atMs: input.atMs });
        }
      }
      const next: Omit<EndpointHealthRecord, 'version'> = {
        state: health.state,
        consecutiveFailures: health.consecutiveFailures,
        firstFailureAtMs: health.firstFailureAtMs ?? null,
        failedSinceSuccess: health.failedSinceSuccess,
        lastSuccessAtMs: health.lastSuccessAtMs ?? null,
        changedAtMs,
        reason,
      };
      if (sameHealth(stored, next)) return;
      if (!(await store.compareAndSetEndpointHealth(endpointId, stored.version, next))) continue;
      if (stored.state !== next.state) await this.onStateChanged(endpointId, stored.state, next, changes);
      return;
    }
    this.deps.log.warn({ endpointId }, 'endpoint health kept changing under us; this update was dropped');
  }

  private async onStateChanged(
    endpointId: EndpointId,
    from: EndpointHealthRecord['state'],
    to: Omit<EndpointHealthRecord, 'version'>,
    changes: Array<{ reason: HealthChangeReason; atMs: number }>,
  ): Promise<void> {
    const { store, clock, log, publisher } = this.deps;
    const endpoint = await store.getEndpointForDelivery(endpointId);
    const projectId = endpoint?.projectId;
    log.warn({ endpointId, projectId, from, to: to.state, reason: to.reason }, 'endpoint health changed');
    if (to.state !== 'disabled' || !endpoint) return;
    const nowMs = clock.nowMs();
    // What waits for a disabled endpoint fails now; `recover` replays it once it is enabled.
    await store.failPendingDeliveries(endpointId, nowMs);
    this.deps.onDisabled(endpointId);
    const disabled = changes.find((c) => c.reason === 'gone' || c.reason === 'sustained_failure');
    const notice = publisher
      .publish({
        projectId: endpoint.projectId,
        eventType: ENDPOINT_DISABLED_EVENT,
        payload: {
          endpointId,
          url: endpoint.url,
          name: endpoint.name,
          reason: to.reason,
          disabledAt: new Date(disabled?.atMs ?? nowMs).toISOString(),
          consecutiveFailures: to.consecutiveFailures,
        },
        excludeEndpointIds: [endpointId],
      })
      .catch((err: unknown) => log.error({ err, endpointId }, 'could not publish endpoint.disabled'));
    this.notices.add(notice);
    void notice.finally(() => {
      this.notices.delete(notice);
      this.deps.onSettled();
    });
  }
}
