import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from './app.ts';
import type { ApiModule, Component, ComponentContext, SdkModule } from './component.ts';
import type { Config } from './config.ts';
import { createConsoleRoutes } from './console/console-routes.ts';
import { type Clock, systemClock } from './domain/clock.ts';
import { createProjectService } from './projects/project-service.ts';
import type { RoutedEventSubscriber } from './routing/routed-event-subscriber.ts';
import { secureDataDir } from './security/data-dir.ts';
import { createSecretBox, loadMasterKeys } from './security/secret-box.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';
import { createUserTokens } from './users/user-tokens.ts';

export type { Component, ComponentContext } from './component.ts';

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
  /**
   * Extra components (tests); the built-in ones are chosen by config.roles. Their routed-event
   * subscribers are registered with the built-in ones.
   */
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
  const userTokens = createUserTokens({ store, secrets, clock });
  const context: ComponentContext = { config, store, secrets, clock, logger, userTokens };
  const extra = options.components ?? [];
  const builtIn = await builtInComponents(
    context,
    extra.flatMap((c) => c.routedEventSubscribers ?? []),
  );
  const components: Component[] = [...builtIn.components, ...extra];

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
    apiModules: config.roles.includes('api')
      ? [...builtIn.apiModules, ...components.flatMap((c) => c.apiModules ?? [])]
      : [],
    userTokens,
    sdkModules: config.roles.includes('api')
      ? [...builtIn.sdkModules, ...components.flatMap((c) => c.sdkModules ?? [])]
      : [],
    pageModules: config.roles.includes('api') ? [createConsoleRoutes()] : [],
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
 * Components for the configured roles, each deciding which of its parts a role runs, and the API
 * routes that serve them: areas know nothing of the API, so they are wired to their routes here.
 * Delivery is listed first so it starts first and stops last: the inbound router forwards into
 * its publisher. Routed inbound events go to the forwarder and then to `subscribers`.
 */
async function builtInComponents(
  context: ComponentContext,
  subscribers: readonly RoutedEventSubscriber[],
): Promise<{ components: Component[]; apiModules: ApiModule[]; sdkModules: SdkModule[] }> {
  const { store, clock } = context;
  const { createIngestComponent } = await import('./ingest/ingest-component.ts');
  const { createDeliveryComponent } = await import('./delivery/delivery-component.ts');
  const { createInboundForwarder } = await import('./routing/inbound-forwarder.ts');
  const { registerEndpointRoutes } = await import('./api/endpoint-routes.ts');
  const { registerEventTypeRoutes } = await import('./api/event-type-routes.ts');
  const { registerMessageRoutes } = await import('./api/message-routes.ts');
  const { registerSourceRoutes } = await import('./api/source-routes.ts');
  const { registerInboundEventRoutes } = await import('./api/inbound-event-routes.ts');
  const delivery = createDeliveryComponent(context);
  const forwarder = createInboundForwarder({ store, publisher: delivery.publisher });
  const { createObserveComponent } = await import('./observe/observe-component.ts');
  const observe = createObserveComponent(context);
  const ingest = createIngestComponent(context, {
    subscribers: [forwarder, ...subscribers],
    onRefused: (refusal) => observe.refusals.record(refusal),
    onCommitted: () => observe.streams.wake(),
  });
  const { publisher, endpoints } = delivery;
  const { createIntegrationsComponent } = await import('./integrations/integrations-component.ts');
  const { registerIntegrationRoutes } = await import('./api/integration-routes.ts');
  const { registerUserTokenRoutes } = await import('./api/user-token-routes.ts');
  const { registerActivityRoutes } = await import('./api/activity-routes.ts');
  const { registerEndpointTestRoutes } = await import('./api/endpoint-test-routes.ts');
  const { registerStatsRoutes } = await import('./api/stats-routes.ts');
  const { registerStreamRoutes } = await import('./api/stream-routes.ts');
  const { registerSdkEndpointRoutes } = await import('./api/sdk-endpoint-routes.ts');
  const integrations = createIntegrationsComponent(context, { publisher });
  const { registerCredentialRoutes } = await import('./api/credential-routes.ts');
  const { registerConnectRoutes } = await import('./api/connect-routes.ts');
  const { registerTriggerSubscriptionRoutes } = await import('./api/trigger-subscription-routes.ts');
  const { createWorkflowsComponent } = await import('./workflows/workflows-component.ts');
  const { registerWorkflowRoutes } = await import('./api/workflow-routes.ts');
  const { registerWorkflowSdkRoutes } = await import('./api/workflow-sdk-routes.ts');
  const workflows = createWorkflowsComponent(context, { publisher });
  // A new credential starts the user's integration-enabled workflows once (its id is the run key,
  // so a reconnect of the same credential starts nothing).
  integrations.credentialEvents.on(async (event) => {
    if (event.type !== 'connected') return;
    const { credential } = event;
    await workflows.triggers.fire(
      credential.projectId,
      credential.userId,
      { type: 'integrationEnabled', key: credential.integration },
      {
        integration: credential.integration,
        credentialId: credential.id,
        providerAccountId: credential.providerAccountId,
        connectedAt: new Date(credential.createdAtMs).toISOString(),
      },
      { runKey: credential.id },
    );
  });
  return {
    components: [delivery, observe, ingest, integrations, workflows],
    apiModules: [
      (api) => registerEndpointRoutes(api, { store, endpoints, clock }),
      (api) => registerEventTypeRoutes(api, { store, clock }),
      (api) => registerMessageRoutes(api, { store, publisher, clock }),
      (api) => registerSourceRoutes(api, { store, sources: ingest.sources }),
      (api) => registerInboundEventRoutes(api, { store, clock, wakeRouter: ingest.wakeRouter, forwarder }),
      (api) => registerIntegrationRoutes(api, { store, integrations: integrations.integrations }),
      (api) =>
        registerCredentialRoutes(api, {
          store,
          credentials: integrations.credentials,
          refresher: integrations.refresher,
          connect: integrations.connect,
        }),
      (api) => registerTriggerSubscriptionRoutes(api, { store, subscriptions: integrations.subscriptions }),
      (api) =>
        registerWorkflowRoutes(api, {
          store,
          clock,
          publisher,
          workflows: workflows.workflows,
          triggers: workflows.triggers,
        }),
      (api) => registerUserTokenRoutes(api, { store, clock, userTokens: context.userTokens }),
      (api) =>
        registerStreamRoutes(api, {
          store,
          clock,
          streams: observe.streams,
          maxPerProject: context.config.streamMaxPerProject,
        }),
      (api) => registerActivityRoutes(api, { store }),
      (api) => registerEndpointTestRoutes(api, { store, clock }),
      (api) => registerStatsRoutes(api, { store, clock }),
    ],
    sdkModules: [
      (sdk) => registerSdkEndpointRoutes(sdk, { store, endpoints }),
      (sdk) =>
        registerConnectRoutes(sdk, {
          store,
          credentials: integrations.credentials,
          connect: integrations.connect,
        }),
      (sdk) =>
        registerWorkflowSdkRoutes(sdk, {
          workflows: workflows.workflows,
          triggers: workflows.triggers,
          responseWaitMs: context.config.workflowResponseWaitMs,
        }),
    ],
  };
}
