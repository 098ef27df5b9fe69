import { registerInboundEventRoutes } from '../api/inbound-event-routes.ts';
import { registerSourceRoutes } from '../api/source-routes.ts';
import type { ProjectId, SourceId } from '../domain/ids.ts';
import type { Component, ComponentContext } from '../main.ts';
import { createInboundRouter, type RoutedEventHandler } from '../routing/inbound-router.ts';
import { type CompiledSource, compileSource } from './compiled-source.ts';
import { GroupCommitter } from './group-committer.ts';
import { createIngestRoute, type IngestDeps } from './ingest-handler.ts';
import { SourceCache } from './source-cache.ts';
import { createSourceService } from './source-service.ts';

const INBOUND_CHANNEL = 'hookyard_inbound';

/**
 * The inbound area as one component: the `/in/…` raw route (role ingest), the management routes
 * for sources, events and tenants (role api), and the router worker (role delivery, since it is
 * background work; on a one-process install all three run).
 */
export function createIngestComponent(
  ctx: ComponentContext,
  options: {
    /** Forwards routed events (to the project's endpoints). */
    onRouted?: RoutedEventHandler;
    /** Whether a project's events have follow-up work; without it they are routed at ingest. */
    hasFollowUp?: (projectId: ProjectId) => boolean;
    /** Told of each inbound request refused before storage. */
    onRefused?: IngestDeps['onRefused'];
    /** Called after each commit of inbound events (the live stream reads at once). */
    onCommitted?: () => void;
  } = {},
): Component {
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
  const router = createInboundRouter({
    store,
    clock,
    logger,
    ...(options.onRouted ? { onRouted: options.onRouted } : {}),
  });
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
            ...(options.hasFollowUp ? { hasFollowUp: options.hasFollowUp } : {}),
            ...(options.onRefused ? { onRefused: options.onRefused } : {}),
            applyHandshakeEffect: (source, effect) => sources.applyHandshakeEffect(source, effect),
          }),
        ]
      : [],
    apiModules: [
      (api) => registerSourceRoutes(api, { store, sources }),
      (api) => registerInboundEventRoutes(api, { store, clock, wakeRouter: () => router.wake() }),
    ],
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
