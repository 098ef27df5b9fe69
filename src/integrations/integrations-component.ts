import type { Component, ComponentContext } from '../component.ts';
import { createSourceService } from '../ingest/source-service.ts';
import { loadShippedDefinitions } from './definition-loader.ts';
import { createIntegrationService, type IntegrationService } from './integration-service.ts';

/**
 * The integrations area: the shipped catalogue (read once at start; a broken file stops the start
 * with its name) and the service the management routes for definitions, settings and triggers
 * are wired to.
 */
export function createIntegrationsComponent(
  ctx: ComponentContext,
): Component & { integrations: IntegrationService } {
  const { config, store, secrets, clock } = ctx;
  const shipped = loadShippedDefinitions();
  // App-level sources are ordinary sources; the ingest path's cache picks up their changes within
  // its TTL (5 s), as it does for changes from another process.
  const sources = createSourceService({ store, secrets, clock, publicBaseUrl: config.publicBaseUrl });
  const integrations = createIntegrationService({ store, secrets, clock, sources, shipped });
  return { integrations };
}
