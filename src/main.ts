import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { type ApiModule, buildApp, type RawRoute } from './app.ts';
import type { Config } from './config.ts';
import { type Clock, systemClock } from './domain/clock.ts';
import { createProjectService } from './projects/project-service.ts';
import { secureDataDir } from './security/data-dir.ts';
import { createSecretBox, loadMasterKeys, type SecretBox } from './security/secret-box.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';

/** A part of the process with a lifecycle (ingest committer, delivery workers…). */
export interface Component {
  rawRoutes?: RawRoute[];
  apiModules?: ApiModule[];
  start?(): Promise<void>;
  /** Stop taking new work, finish what is in flight. */
  stop?(): Promise<void>;
}

export interface ComponentContext {
  config: Config;
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  logger: Logger;
}

export interface Hookyard {
  app: FastifyInstance;
  store: Store;
  /** The URL the server listens on. */
  url: string;
  /** Set only on the first start without HOOKYARD_ADMIN_KEY: the CLI prints it once. */
  generatedAdminKey: string | null;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  clock?: Clock;
  /** Extra components (tests); the built-in ones are chosen by config.roles. */
  components?: Component[];
}

/** The composition root: the only place real dependencies are wired. */
export async function startHookyard(config: Config, options: StartOptions = {}): Promise<Hookyard> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'hookyard' } });
  const clock = options.clock ?? systemClock;
  for (const change of secureDataDir(config.dataDir)) {
    logger.warn(
      { path: change.path, fromMode: change.fromMode.toString(8), toMode: change.toMode.toString(8) },
      'data directory permissions tightened (only the user running Hookyard may read it)',
    );
  }
  const secrets = createSecretBox(loadMasterKeys(config.masterKey, config.dataDir));
  const store = openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    // The hot paths (ingest, delivery) write through it; an API-only process does not need one.
    sqliteWriterThread:
      config.sqliteWriterThread && (config.roles.includes('ingest') || config.roles.includes('delivery')),
  });
  try {
    const applied = await store.migrate();
    if (applied.length > 0) logger.info({ applied, store: store.kind }, 'migrations applied');
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }

  const projects = createProjectService({ store, secrets, clock });
  const admin = await projects.ensureAdminKey(config.adminKey);
  const context: ComponentContext = { config, store, secrets, clock, logger };
  const components: Component[] = [...(await builtInComponents(context)), ...(options.components ?? [])];

  let shuttingDown = false;
  const app = await buildApp({
    config,
    store,
    secrets,
    clock,
    logger,
    projects,
    adminKeyHash: admin.adminKeyHash,
    isShuttingDown: () => shuttingDown,
    rawRoutes: components.flatMap((c) => c.rawRoutes ?? []),
    apiModules: config.roles.includes('api') ? components.flatMap((c) => c.apiModules ?? []) : [],
    managementApi: config.roles.includes('api'),
  });
  for (const c of components) await c.start?.();
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info({ port, host: config.host, store: store.kind, roles: config.roles }, 'hookyard listening');

  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    url: `http://${host}:${port}`,
    generatedAdminKey: admin.generated,
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        const deadline = new Promise<'timeout'>((r) =>
          setTimeout(() => r('timeout'), config.shutdownTimeoutMs).unref(),
        );
        const graceful = (async () => {
          // Stop accepting; in-flight requests finish (their commits included), then jobs stop.
          await app.close();
          for (const c of [...components].reverse()) await c.stop?.();
        })();
        if ((await Promise.race([graceful, deadline])) === 'timeout') {
          logger.warn(
            { timeoutMs: config.shutdownTimeoutMs },
            'shutdown timed out; closing the store anyway',
          );
        }
        await store.close();
        logger.info('hookyard stopped');
      })();
      return closing;
    },
  };
}

/**
 * Components for the configured roles; each decides which of its parts a role runs. Delivery is
 * listed first so it starts first and stops last: the inbound router forwards into its publisher.
 */
async function builtInComponents(context: ComponentContext): Promise<Component[]> {
  const { createIngestComponent } = await import('./ingest/ingest-component.ts');
  const { createDeliveryComponent } = await import('./delivery/delivery-component.ts');
  const { createEndpointPresence, createInboundForwarder } = await import('./routing/inbound-forwarder.ts');
  const delivery = createDeliveryComponent(context);
  const presence = createEndpointPresence(
    (projectId) => context.store.listEndpointRoutes(projectId),
    context.clock,
  );
  const { createObserveComponent } = await import('./observe/observe-component.ts');
  const observe = createObserveComponent(context);
  const ingest = createIngestComponent(context, {
    onRouted: createInboundForwarder({ store: context.store, publisher: delivery.publisher }),
    hasFollowUp: (projectId) => presence.hasEndpoints(projectId),
    onRefused: (refusal) => observe.refusals.record(refusal),
    onCommitted: () => observe.streams.wake(),
  });
  const { createIntegrationsComponent } = await import('./integrations/integrations-component.ts');
  return [delivery, observe, ingest, createIntegrationsComponent(context)];
}
