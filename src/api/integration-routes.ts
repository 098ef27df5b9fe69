import type { FastifyInstance } from 'fastify';
import type { IntegrationService, IntegrationSettingsInput } from '../integrations/integration-service.ts';
import type { Store } from '../store/store.ts';
import { authorizeProject } from './auth.ts';
import { bearerSecurity, errorResponses, errorSchema, listSchema, projectIdParams } from './schemas.ts';

const definitionBody = {
  type: 'object',
  additionalProperties: true,
  description:
    'An integration definition: the document docs/integration.schema.json describes (the same as a shipped YAML file, without fixtures). Every problem is answered at once, by field path.',
} as const;

const settingsFlags = {
  type: 'object',
  required: ['clientIdSet', 'clientSecretSet', 'settings'],
  properties: {
    clientIdSet: { type: 'boolean' },
    clientSecretSet: { type: 'boolean' },
    settings: {
      type: 'object',
      description: 'each setting the integration reads, and whether it is set (values are never returned)',
      additionalProperties: { type: 'boolean' },
    },
  },
} as const;

const triggerSummary = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    setup: { type: 'string', enum: ['api', 'manual'] },
    level: { type: 'string', enum: ['user', 'app'] },
  },
} as const;

const summaryProperties = {
  key: { type: 'string' },
  name: { type: 'string' },
  origin: { type: 'string', enum: ['shipped', 'project'] },
  authType: { type: 'string', enum: ['oauth2', 'apiKey', 'basic', 'none'] },
  triggers: { type: 'array', items: triggerSummary },
  settings: settingsFlags,
  appWebhookUrl: {
    type: ['string', 'null'],
    description:
      'where the provider sends this integration’s app-level events for this project (the ingest URL of its source); null until the project has put settings, or when it has no app-level trigger',
  },
} as const;

const integrationSummary = {
  type: 'object',
  required: ['key', 'name', 'origin', 'authType', 'triggers', 'settings', 'appWebhookUrl'],
  properties: summaryProperties,
} as const;

const integrationView = {
  type: 'object',
  required: [...integrationSummary.required, 'definition'],
  properties: {
    ...summaryProperties,
    definition: {
      type: 'object',
      additionalProperties: true,
      description: 'the definition (fixtures left out)',
    },
  },
} as const;

const triggerView = {
  type: 'object',
  required: ['integration', 'origin', 'type', 'title', 'setup', 'level', 'parameters', 'sample'],
  properties: {
    integration: { type: 'string' },
    origin: { type: 'string', enum: ['shipped', 'project'] },
    type: { type: 'string' },
    title: { type: 'string' },
    description: { type: ['string', 'null'] },
    setup: { type: 'string', enum: ['api', 'manual'] },
    level: { type: 'string', enum: ['user', 'app'] },
    parameters: { type: 'array', items: { type: 'object', additionalProperties: true } },
    sample: { description: 'an example payload', nullable: true },
  },
} as const;

const keyParams = {
  type: 'object',
  required: ['projectId', 'key'],
  properties: { projectId: { type: 'string' }, key: { type: 'string', maxLength: 63 } },
} as const;

const withConflict = { ...errorResponses, 409: errorSchema } as const;

type KeyParams = { projectId: string; key: string };

export function registerIntegrationRoutes(
  app: FastifyInstance,
  deps: { store: Store; integrations: IntegrationService },
): void {
  const { store, integrations } = deps;
  const tags = ['integrations'];

  app.get<{ Params: { projectId: string } }>(
    '/api/v1/projects/:projectId/integrations',
    {
      schema: {
        tags,
        summary: 'List the integrations this project can use: the shipped catalogue and its own',
        security: bearerSecurity,
        params: projectIdParams,
        response: { 200: listSchema(integrationSummary), ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return { items: await integrations.list(projectId) };
    },
  );

  app.post<{ Params: { projectId: string }; Body: unknown }>(
    '/api/v1/projects/:projectId/integrations',
    {
      schema: {
        tags,
        summary: 'Define an integration of this project’s own (its key may not be a shipped one)',
        security: bearerSecurity,
        params: projectIdParams,
        body: definitionBody,
        response: { 201: integrationView, ...withConflict, 413: errorSchema },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const created = await integrations.create(projectId, request.body);
      reply.code(201);
      return created;
    },
  );

  app.get<{ Params: KeyParams }>(
    '/api/v1/projects/:projectId/integrations/:key',
    {
      schema: {
        tags,
        summary: 'Get an integration: its definition, which settings are set, and its app-level webhook URL',
        security: bearerSecurity,
        params: keyParams,
        response: { 200: integrationView, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { definition, origin } = await integrations.find(projectId, request.params.key);
      return integrations.view(projectId, definition, origin);
    },
  );

  app.put<{ Params: KeyParams; Body: unknown }>(
    '/api/v1/projects/:projectId/integrations/:key',
    {
      schema: {
        tags,
        summary: 'Replace one of the project’s own integration definitions',
        security: bearerSecurity,
        params: keyParams,
        body: definitionBody,
        response: { 200: integrationView, ...withConflict, 413: errorSchema },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return integrations.replace(projectId, request.params.key, request.body);
    },
  );

  app.delete<{ Params: KeyParams }>(
    '/api/v1/projects/:projectId/integrations/:key',
    {
      schema: {
        tags,
        summary: 'Delete one of the project’s own integrations, its settings and its app-level source',
        security: bearerSecurity,
        params: keyParams,
        response: { 204: { type: 'null' }, ...withConflict },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      await integrations.remove(projectId, request.params.key);
      reply.code(204);
    },
  );

  app.put<{ Params: KeyParams; Body: IntegrationSettingsInput }>(
    '/api/v1/projects/:projectId/integrations/:key/settings',
    {
      schema: {
        tags,
        summary:
          'Set the project’s OAuth client and app-level settings for an integration (sealed at rest, never returned); replaces what was set',
        security: bearerSecurity,
        params: keyParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            clientId: { type: ['string', 'null'], maxLength: 4096 },
            clientSecret: { type: ['string', 'null'], maxLength: 4096 },
            settings: {
              type: ['object', 'null'],
              description:
                'values the definition reads as {{integration.settings.NAME}} or declares in settings',
              additionalProperties: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
            },
          },
        },
        response: {
          200: {
            ...settingsFlags,
            required: [...settingsFlags.required, 'appWebhookUrl'],
            properties: { ...settingsFlags.properties, appWebhookUrl: summaryProperties.appWebhookUrl },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return integrations.putSettings(projectId, request.params.key, request.body ?? {});
    },
  );

  app.get<{ Params: { projectId: string } }>(
    '/api/v1/projects/:projectId/triggers',
    {
      schema: {
        tags,
        summary: 'List every trigger of every integration this project can use, with parameters and samples',
        security: bearerSecurity,
        params: projectIdParams,
        response: { 200: listSchema(triggerView), ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return { items: await integrations.triggers(projectId) };
    },
  );
}
