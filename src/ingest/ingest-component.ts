import type { Component, ComponentContext } from '../component.ts';
import type { SourceId } from '../domain/ids.ts';
import { createInboundRouter } from '../routing/inbound-router.ts';
import { followUpOf, type RoutedEventSubscriber } from '../routing/routed-event-subscriber.ts';
import { type CompiledSource, compileSource } from './compiled-source.ts';
import { GroupCommitter } from './group-committer.ts';
import { createIngestRoute, type IngestDeps } from './ingest-handler.ts';
import { SourceCache } from './source-cache.ts';
import { createSourceService, type SourceService } from './source-service.ts';

const INBOUND_CHANNEL = 'hookyard_inbound';

export interface IngestComponent extends Component {
  /** Sources' management (the composition root serves it as API routes). */
  readonly sources: SourceService;
  /** Asks a router for a pass now (a requeued routing job is waiting): this process's, or another's. */
  wakeRouter(): void;
}

/**
 * The inbound area as one component: the `/in/…` raw route (role ingest), the sources' service,
 * and the router worker (role delivery, since it is background work; on a one-process install
 * all run). The router hands every routed event to `subscribers`, fixed at start; whether an
 * event needs a routing job at all is asked of all of them.
 */
export function createIngestComponent(
  ctx: ComponentContext,
  options: {
    subscribers: readonly RoutedEventSubscriber[];
    /** Told of each inbound request refused before storage. */
    onRefused?: IngestDeps['onRefused'];
    /** Called after each commit of inbound events (the live stream reads at once). */
    onCommitted?: () => void;
  },
): IngestComponent {
  const { config, store, secrets, clock, logger } = ctx;
  const cache = new SourceCache<CompiledSource>(
    async (id) => {
      const record = await store.getSourceForIngest(id);
      return record ? compileSource(record, secrets) : null;
    },
    { ttlMs: 5000, missTtlMs: 1000, maxEntries: 10_000, now: () => clock.nowMs() },
  );
  const sources = createSourceService({
    store,
    secrets,
    clock,
    publicBaseUrl: config.publicBaseUrl,
    onChange: (id: SourceId) => cache.invalidate(id),
  });
  const router = createInboundRouter({ store, clock, logger, subscribers: options.subscribers });
  const hasFollowUp = followUpOf(options.subscribers);
  const runsRouter = config.roles.includes('delivery');
  const committer = new GroupCommitter(store, {
    // PostgreSQL: batches of one prepared statement each, committed side by side on pooled
    // connections, measured faster than larger batches in one transaction (docs/benchmarks.md).
    maxBatch: Math.min(
      config.ingestMaxBatch,
      store.capabilities.inboundEventsPerCommit ?? config.ingestMaxBatch,
    ),
    // Two batches in flight on both stores. SQLite commits one at a time on its one connection
    // (the second overlaps a commit with the previous one's fsync). PostgreSQL runs them on two
    // pooled connections: with four, batches averaged 10.5 events and ingest took 14.4-16.3k/s; with
    // two they average 15 (of 16) and it took 17.8-19.8k/s (docs/benchmarks.md, "Tried and dropped").
    maxInFlight: 2,
    onCommitted: () => {
      options.onCommitted?.();
      if (runsRouter) router.wake();
      else void store.notify?.(INBOUND_CHANNEL, '').catch(() => {});
    },
  });
  let unlisten: (() => Promise<void>) | undefined;

  return {
    rawRoutes: config.roles.includes('ingest')
      ? [
          createIngestRoute({
            sources: cache,
            committer,
            clock,
            logger,
            publicBaseUrl: config.publicBaseUrl,
            hasFollowUp,
            ...(options.onRefused ? { onRefused: options.onRefused } : {}),
            applyHandshakeEffect: (source, effect) => sources.applyHandshakeEffect(source, effect),
          }),
        ]
      : [],
    sources,
    wakeRouter: () => {
      if (runsRouter) router.wake();
      else void store.notify?.(INBOUND_CHANNEL, '').catch(() => {});
    },
    async start() {
      if (!runsRouter) return;
      router.start();
      if (store.listen) unlisten = await store.listen(INBOUND_CHANNEL, () => router.wake());
    },
    async stop() {
      await committer.close();
      await unlisten?.();
      await router.stop();
    },
  };
}
