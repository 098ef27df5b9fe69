import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import { storedSettings } from '../ingest/source-settings.ts';
import type {
  InboundEventStatus,
  InboundEventSummary,
  InboundStore,
  PendingInboundEvent,
} from '../store/inbound-store.ts';
import type { RoutedEventSubscriber } from './routed-event-subscriber.ts';
import { routingRetryAtMs } from './routing-retry-policy.ts';

/** One or more subscribers threw; the message names each with its error. */
class SubscriberFailure extends Error {}

/**
 * Routing decision for one stored event, as a pure function of the event, whether its source routes
 * app-level, and the tenant bound to its routing key (if any):
 * - user-level: the URL carried a credential id, so the event belongs to it;
 * - app-level: the routing key matched a tenant binding, so the event belongs to that tenant;
 *   no binding (or no key in the event) leaves it in the unrouted inbox until one is bound;
 * - a source without routing: the event belongs to the project itself.
 */
export function decideRoute(
  event: Pick<InboundEventSummary, 'credentialId' | 'routingKey'>,
  appLevel: boolean,
  tenantId: string | null,
): { status: InboundEventStatus; tenantId: string | null } {
  if (event.credentialId) return { status: 'routed', tenantId: event.credentialId };
  if (!appLevel) return { status: 'routed', tenantId: null };
  if (tenantId) return { status: 'routed', tenantId };
  return { status: 'unrouted', tenantId: null };
}

export interface InboundRouterDeps {
  store: Pick<
    InboundStore,
    | 'claimPendingInboundEvents'
    | 'completeInboundEvents'
    | 'failInboundEvents'
    | 'findTenant'
    | 'getSourceForIngest'
  >;
  clock: Clock;
  logger: Logger;
  /** Each is handed every routed event (see RoutedEventSubscriber); registered once, at start. */
  subscribers: readonly RoutedEventSubscriber[];
}

export interface InboundRouterOptions {
  batchSize: number;
  /** How long a claimed job stays hidden from other claims; a router that dies gives it back then. */
  leaseMs: number;
  pollMs: number;
  coalesceMs: number;
  /** Events of one batch handed to subscribers at the same time (their publishes commit together). */
  concurrency: number;
}

const DEFAULT_OPTIONS: InboundRouterOptions = {
  batchSize: 500,
  leaseMs: 30_000,
  pollMs: 1000,
  coalesceMs: 10,
  concurrency: 16,
};

/** An error as the set-aside event keeps it: short, one line, naming the subscriber. */
const MAX_ERROR_CHARS = 1000;
function describeFailure(where: string, err: unknown): string {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return `${where}: ${message}`.replace(/\s+/g, ' ').slice(0, MAX_ERROR_CHARS);
}

type Outcome = {
  projectId: InboundEventSummary['projectId'];
  id: InboundEventSummary['id'];
  status: InboundEventStatus;
  tenantId: string | null;
};
type Failure = {
  projectId: Outcome['projectId'];
  id: Outcome['id'];
  error: string;
  retryAtMs: number | null;
};

/**
 * The worker behind the outbox: claims due routing jobs (leased, counted), routes each event, hands
 * routed ones to every subscriber, and records the decisions; a job that fails is retried with
 * backoff and, after MAX_ROUTING_ATTEMPTS, set aside with its error, so no event can stop the
 * events behind it. Woken at once after a commit (`wake()`), and polls as a fallback for work
 * another process committed, a lease that expired or a retry that came due.
 */
export function createInboundRouter(deps: InboundRouterDeps, overrides: Partial<InboundRouterOptions> = {}) {
  const options: InboundRouterOptions = { ...DEFAULT_OPTIONS, ...overrides };
  let running = false;
  let active: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let delayed: NodeJS.Timeout | undefined;
  let lastPassEndedMs = 0;

  /** Claims and routes batches until a batch comes back short of full (the backlog is drained). */
  async function drain(): Promise<void> {
    for (;;) {
      const events = await deps.store.claimPendingInboundEvents(
        options.batchSize,
        deps.clock.nowMs(),
        options.leaseMs,
      );
      if (events.length === 0) return;
      // One pass decides a whole batch and records it in one transaction; the source settings
      // are read once per source in the batch.
      const appLevelBySource = new Map<string, Promise<boolean>>();
      const outcomes: Outcome[] = [];
      const failures: Failure[] = [];
      let next = 0;
      const lane = async (): Promise<void> => {
        for (let i = next++; i < events.length; i = next++) {
          const event = events[i] as PendingInboundEvent;
          try {
            outcomes.push({
              projectId: event.projectId,
              id: event.id,
              ...(await routeOne(event, appLevelBySource)),
            });
          } catch (err) {
            const retryAtMs = routingRetryAtMs(event.processAttempts, deps.clock.nowMs());
            const error = err instanceof SubscriberFailure ? err.message : describeFailure('routing', err);
            failures.push({ projectId: event.projectId, id: event.id, error, retryAtMs });
            deps.logger.warn(
              { eventId: event.id, projectId: event.projectId, attempts: event.processAttempts, error },
              retryAtMs === null ? 'routing failed too often; event set aside' : 'routing failed; will retry',
            );
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.concurrency, events.length) }, lane));
      await deps.store.completeInboundEvents(outcomes);
      await deps.store.failInboundEvents(failures);
      if (!running || events.length < options.batchSize) return;
    }
  }

  async function routeOne(
    event: PendingInboundEvent,
    appLevelBySource: Map<string, Promise<boolean>>,
  ): Promise<{ status: InboundEventStatus; tenantId: string | null }> {
    let appLevelRead = appLevelBySource.get(event.sourceId);
    if (appLevelRead === undefined) {
      appLevelRead = deps.store
        .getSourceForIngest(event.sourceId)
        .then((source) => (source ? storedSettings(source.settings).routing !== undefined : false));
      appLevelBySource.set(event.sourceId, appLevelRead);
    }
    const appLevel = await appLevelRead;
    let tenantId: string | null = null;
    if (appLevel && event.routingKey && !event.credentialId) {
      tenantId = (await deps.store.findTenant(event.sourceId, event.routingKey))?.id ?? null;
    }
    const decision = decideRoute(event, appLevel, tenantId);
    if (decision.status === 'routed') await handToSubscribers(event, decision.tenantId);
    return decision;
  }

  /** Every subscriber gets the event, even when another fails; any failure retries the job. */
  async function handToSubscribers(event: PendingInboundEvent, tenantId: string | null): Promise<void> {
    const routed = { event, projectId: event.projectId, tenantId };
    const results = await Promise.allSettled(deps.subscribers.map((s) => s.handle(routed)));
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [describeFailure(deps.subscribers[i]?.name ?? 'subscriber', r.reason)] : [],
    );
    if (failed.length > 0) throw new SubscriberFailure(failed.join('; ').slice(0, MAX_ERROR_CHARS));
  }

  /**
   * A wake right after a pass is held for coalesceMs: under load, passes then take hundreds of
   * events and record them in one transaction instead of a transaction per commit of ingest; a
   * quiet source still gets its event routed at once.
   */
  function wake(): void {
    if (!running || delayed) return;
    if (active) {
      again = true;
      return;
    }
    const sinceLast = performance.now() - lastPassEndedMs;
    if (sinceLast < options.coalesceMs) {
      delayed = setTimeout(() => {
        delayed = undefined;
        wake();
      }, options.coalesceMs - sinceLast);
      return;
    }
    active = drain()
      .catch((err) => deps.logger.error({ err }, 'inbound router pass failed'))
      .finally(() => {
        active = null;
        lastPassEndedMs = performance.now();
        // Work committed during the pass gets a (coalesced) pass of its own.
        if (again) {
          again = false;
          wake();
        }
      });
  }

  return {
    wake,
    start(): void {
      running = true;
      timer = setInterval(wake, options.pollMs);
      timer.unref();
      wake();
    },
    async stop(): Promise<void> {
      running = false;
      if (timer) clearInterval(timer);
      if (delayed) clearTimeout(delayed);
      await active;
    },
  };
}
