import type { Component, ComponentContext } from '../component.ts';
import { parseEgressAllowList } from '../delivery/egress-guard.ts';
import type { Publisher } from '../delivery/publisher.ts';
import { createSourceService } from '../ingest/source-service.ts';
import { type CredentialEvents, createCredentialEvents } from './credential-events.ts';
import { type CredentialRefresher, createCredentialRefresher } from './credential-refresher.ts';
import { type CredentialService, createCredentialService } from './credential-service.ts';
import { loadShippedDefinitions } from './definition-loader.ts';
import { createIntegrationService, type IntegrationService } from './integration-service.ts';
import { createOAuthCallbackRoute } from './oauth-callback-route.ts';
import { createOAuthConnect, OAUTH_CALLBACK_PATH, type OAuthConnect } from './oauth-connect.ts';
import { createProviderHttp, type ProviderHttp } from './provider-http.ts';
import { createTriggerEventRoute } from './trigger-event-route.ts';
import {
  createTriggerSubscriptionService,
  type TriggerSubscriptionService,
} from './trigger-subscription-service.ts';

export interface IntegrationsComponent extends Component {
  integrations: IntegrationService;
  credentials: CredentialService;
  /** `getFreshCredential(id)`: every provider call on a credential's behalf goes through it. */
  refresher: CredentialRefresher;
  /** Connected, reconnected, needs_reauth and deleted credentials; teardowns before a delete. */
  credentialEvents: CredentialEvents;
  connect: OAuthConnect;
  /** Requests to providers, through the egress guard. */
  providerHttp: ProviderHttp;
  /** Trigger subscriptions of `setup: api` triggers; renewed every config.triggerRenewIntervalMs. */
  subscriptions: TriggerSubscriptionService;
}

/**
 * The integrations area: the shipped catalogue (read once at start; a broken file stops the start
 * with its name), the services the management routes for definitions, settings, triggers and
 * credentials are wired to, OAuth connect and its callback route, and credential refresh.
 */
export function createIntegrationsComponent(
  ctx: ComponentContext,
  deps: { publisher: Pick<Publisher, 'publish'> },
): IntegrationsComponent {
  const { config, store, secrets, clock, logger } = ctx;
  const shipped = loadShippedDefinitions();
  // App-level sources are ordinary sources; the ingest path's cache picks up their changes within
  // its TTL (5 s), as it does for changes from another process.
  const sources = createSourceService({ store, secrets, clock, publicBaseUrl: config.publicBaseUrl });
  const integrations = createIntegrationService({ store, secrets, clock, sources, shipped });
  const providerHttp = createProviderHttp({ egressAllow: parseEgressAllowList(config.egressAllow) });
  const credentialEvents = createCredentialEvents(logger);
  const credentials = createCredentialService({
    store,
    secrets,
    clock,
    integrations,
    publisher: deps.publisher,
    events: credentialEvents,
    providerFetch: providerHttp.fetch,
    logger,
  });
  const refresher = createCredentialRefresher({
    store,
    secrets,
    clock,
    integrations,
    events: credentialEvents,
    providerFetch: providerHttp.fetch,
    logger,
  });
  const connect = createOAuthConnect({
    store,
    secrets,
    clock,
    integrations,
    credentials,
    providerFetch: providerHttp.fetch,
    callbackUrl: `${config.publicBaseUrl}${OAUTH_CALLBACK_PATH}`,
    logger,
  });
  const subscriptions = createTriggerSubscriptionService({
    store,
    secrets,
    clock,
    integrations,
    refresher,
    credentialEvents,
    providerFetch: providerHttp.fetch,
    publicBaseUrl: config.publicBaseUrl,
    logger,
  });
  const log = logger.child({ scope: 'trigger-renewal' });
  let renewTimer: NodeJS.Timeout | null = null;
  let renewing: Promise<unknown> | null = null;
  return {
    integrations,
    credentials,
    subscriptions,
    refresher,
    credentialEvents,
    connect,
    providerHttp,
    rawRoutes: [
      createOAuthCallbackRoute({ connect, logger }),
      createTriggerEventRoute({
        store,
        secrets,
        clock,
        integrations,
        publisher: deps.publisher,
        publicBaseUrl: config.publicBaseUrl,
        logger,
      }),
    ],
    async start() {
      renewTimer = setInterval(() => {
        // One pass at a time: a tick that finds a pass still running (a slow provider) is skipped.
        if (renewing) return;
        renewing = subscriptions
          .renewDue()
          .catch((err: unknown) => log.error({ err }, 'renewal pass failed'))
          .finally(() => {
            renewing = null;
          });
      }, config.triggerRenewIntervalMs);
      renewTimer.unref();
    },
    async stop() {
      if (renewTimer) clearInterval(renewTimer);
      await renewing;
      await providerHttp.close();
    },
  };
}
