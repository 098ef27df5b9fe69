import { registerIntegrationRoutes } from '../api/integration-routes.ts';
import { createSourceService } from '../ingest/source-service.ts';
import type { Component, ComponentContext } from '../main.ts';
import { loadShippedDefinitions } from './definition-loader.ts';
import { createIntegrationService } from './integration-service.ts';

/**
 * The integrations area: the shipped catalogue (read once at start; a broken file stops the start
 * with its name) and the management routes for definitions, settings and triggers.
 */
export function createIntegrationsComponent(ctx: ComponentContext): Component {
  const { config, store, secrets, clock } = ctx;
  const shipped = loadShippedDefinitions();
  // App-level sources are ordinary sources; the ingest path's cache picks up their changes within
  // its TTL (5 s), as it does for changes from another process.
  const sources = createSourceService({ store, secrets, clock, publicBaseUrl: config.publicBaseUrl });
  const integrations = createIntegrationService({ store, secrets, clock, sources, shipped });
  return { apiModules: [(api) => registerIntegrationRoutes(api, { store, integrations })] };
}
