import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import { storedSettings } from '../ingest/source-settings.ts';
import type {
  InboundEventStatus,
  InboundEventSummary,
  InboundStore,
  PendingInboundEvent,
} from '../store/inbound-store.ts';

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

/** Gets the event without its body and headers; getInboundEvent reads them when needed. */
export type RoutedEventHandler = (event: PendingInboundEvent, tenantId: string | null) => Promise<void>;

export interface InboundRouterDeps {
  store: Pick<
    InboundStore,
    'claimPendingInboundEvents' | 'completeInboundEvents' | 'findTenant' | 'getSourceForIngest'
  >;
  clock: Clock;
  logger: Logger;
  /** What happens to a routed event (forwarding to endpoints). Must be idempotent per event id. */
  onRouted?: RoutedEventHandler;
}

/**
 * The worker behind the outbox: claims pending inbound events, routes them, hands routed ones on,
 * and marks them done. Woken at once after a commit (`wake()`), and polls as a fallback for work
 * another process committed or a lease that expired.
 */
export function createInboundRouter(
  deps: InboundRouterDeps,
  options = { batchSize: 500, leaseMs: 30_000, pollMs: 1000, coalesceMs: 10 },
) {
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
      const appLevelBySource = new Map<string, boolean>();
      const outcomes: Array<{
        projectId: InboundEventSummary['projectId'];
        id: InboundEventSummary['id'];
        status: InboundEventStatus;
        tenantId: string | null;
      }> = [];
      for (const event of events) {
        try {
          outcomes.push({
            projectId: event.projectId,
            id: event.id,
            ...(await routeOne(event, appLevelBySource)),
          });
        } catch (err) {
          // Left pending: the lease expires and a later pass retries it.
          deps.logger.error(
            { err, eventId: event.id, projectId: event.projectId },
            'routing failed; will retry',
          );
        }
      }
      await deps.store.completeInboundEvents(outcomes);
      if (!running || events.length < options.batchSize) return;
    }
  }

  async function routeOne(
    event: PendingInboundEvent,
    appLevelBySource: Map<string, boolean>,
  ): Promise<{ status: InboundEventStatus; tenantId: string | null }> {
    let appLevel = appLevelBySource.get(event.sourceId);
    if (appLevel === undefined) {
      const source = await deps.store.getSourceForIngest(event.sourceId);
      appLevel = source ? storedSettings(source.settings).routing !== undefined : false;
      appLevelBySource.set(event.sourceId, appLevel);
    }
    let tenantId: string | null = null;
    if (appLevel && event.routingKey && !event.credentialId) {
      tenantId = (await deps.store.findTenant(event.sourceId, event.routingKey))?.id ?? null;
    }
    const decision = decideRoute(event, appLevel, tenantId);
    if (decision.status === 'routed' && deps.onRouted) await deps.onRouted(event, decision.tenantId);
    return decision;
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
