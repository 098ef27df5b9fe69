import type { FastifyInstance } from 'fastify';
import type { SourceBody, SourceService } from '../ingest/source-service.ts';
import { PROVIDER_NAMES } from '../ingest/verification/provider-presets.ts';
import type { Store } from '../store/store.ts';
import { authorizeProject } from './auth.ts';
import { bearerSecurity, errorResponses, pagedQuery, pageSchema, projectIdParams } from './schemas.ts';

const locator = {
  type: ['object', 'null'],
  description: '{ "header": "name" } or { "jsonPath": "$.a.b" }',
  properties: { header: { type: 'string' }, jsonPath: { type: 'string' } },
  additionalProperties: false,
} as const;

const secretInput = {
  anyOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      required: ['value'],
      additionalProperties: false,
      properties: {
        value: { type: 'string', minLength: 1 },
        notAfter: { type: 'string', format: 'date-time' },
      },
    },
  ],
} as const;

const sourceBodyProperties = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  provider: { type: ['string', 'null'], description: `a preset: ${PROVIDER_NAMES.join(', ')}` },
  secrets: {
    type: 'array',
    maxItems: 10,
    items: secretInput,
    description:
      'signing secrets, all live ones are tried; in the provider’s documented order (Box: primary, secondary)',
  },
  publicKey: { type: ['string', 'null'], description: 'Ed25519 / ECDSA P-256 verification key' },
  verification: {
    type: ['object', 'null'],
    description: 'a custom scheme (docs/inbound.md) when no provider preset fits',
  },
  handshake: {
    type: ['object', 'null'],
    properties: {
      kind: { type: 'string' },
      verifyToken: { type: 'string' },
      authorization: { type: 'string' },
      awaitingSecret: { type: 'boolean' },
    },
    additionalProperties: false,
  },
  dedupe: locator,
  eventType: locator,
  routing: locator,
  toleranceSeconds: { type: ['integer', 'null'], minimum: 1, maximum: 86400 },
  maxBodyBytes: { type: ['integer', 'null'], minimum: 1, maximum: 20 * 1024 * 1024 },
  requireJson: { type: ['boolean', 'null'] },
  publicUrl: {
    type: ['string', 'null'],
    description:
      'the URL registered with the provider, when a proxy makes it differ from ingestUrl (URL-signing providers sign it)',
  },
} as const;

const sourceView = {
  type: 'object',
  additionalProperties: true,
  required: ['id', 'name', 'provider', 'ingestUrl', 'warnings'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    provider: { type: ['string', 'null'] },
    ingestUrl: { type: 'string' },
    verification: { type: ['object', 'null'], additionalProperties: true },
    handshake: { type: 'object', additionalProperties: true },
    dedupe: { type: ['object', 'null'], additionalProperties: true },
    eventType: { type: ['object', 'null'], additionalProperties: true },
    routing: { type: ['object', 'null'], additionalProperties: true },
    toleranceSeconds: { type: ['integer', 'null'] },
    maxBodyBytes: { type: 'integer' },
    requireJson: { type: 'boolean' },
    publicUrl: { type: ['string', 'null'] },
    secrets: {
      type: 'array',
      items: {
        type: 'object',
        properties: { position: { type: 'integer' }, notAfter: { type: ['string', 'null'] } },
      },
    },
    publicKey: { type: ['string', 'null'] },
    handshakeState: { type: ['object', 'null'], additionalProperties: true },
    warnings: {
      type: 'array',
      items: { type: 'string' },
      description:
        'what makes the source refuse requests now and can be fixed later (no signing secret yet, every secret expired)',
    },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

const sourceParams = {
  type: 'object',
  required: ['projectId', 'sourceId'],
  properties: { projectId: { type: 'string' }, sourceId: { type: 'string' } },
} as const;

type Params = { projectId: string; sourceId: string };

export function registerSourceRoutes(
  app: FastifyInstance,
  deps: { store: Store; sources: SourceService },
): void {
  const { store, sources } = deps;
  const tags = ['sources'];

  app.post<{ Params: { projectId: string }; Body: SourceBody }>(
    '/api/v1/projects/:projectId/sources',
    {
      schema: {
        tags,
        summary: 'Create a source; its ingestUrl is where the provider sends webhooks',
        security: bearerSecurity,
        params: projectIdParams,
        body: { type: 'object', additionalProperties: false, properties: sourceBodyProperties },
        response: { 201: sourceView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const created = await sources.create(projectId, request.body);
      reply.code(201);
      return sources.view(created);
    },
  );

  app.get<{ Params: { projectId: string }; Querystring: { limit: number; after?: string } }>(
    '/api/v1/projects/:projectId/sources',
    {
      schema: {
        tags,
        summary: 'List sources',
        security: bearerSecurity,
        params: projectIdParams,
        querystring: pagedQuery('source'),
        response: {
          200: pageSchema(sourceView),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const page = await store.listSources(projectId, request.query);
      return { items: page.items.map(sources.view), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: Params }>(
    '/api/v1/projects/:projectId/sources/:sourceId',
    {
      schema: {
        tags,
        summary: 'Get a source (secret values are never returned)',
        security: bearerSecurity,
        params: sourceParams,
        response: { 200: sourceView, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return sources.view(await sources.get(projectId, request.params.sourceId));
    },
  );

  app.patch<{ Params: Params; Body: SourceBody }>(
    '/api/v1/projects/:projectId/sources/:sourceId',
    {
      schema: {
        tags,
        summary: 'Update a source: fields given replace the stored ones (secrets replaces the list)',
        security: bearerSecurity,
        params: sourceParams,
        body: { type: 'object', additionalProperties: false, properties: sourceBodyProperties },
        response: { 200: sourceView, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return sources.view(await sources.update(projectId, request.params.sourceId, request.body));
    },
  );

  app.post<{ Params: Params; Body: { secret: string; keepExistingUntil?: string } }>(
    '/api/v1/projects/:projectId/sources/:sourceId/secrets/rotate',
    {
      schema: {
        tags,
        summary: 'Add a new secret; the current ones stay live until keepExistingUntil (default 24 h)',
        security: bearerSecurity,
        params: sourceParams,
        body: {
          type: 'object',
          required: ['secret'],
          additionalProperties: false,
          properties: {
            secret: { type: 'string', minLength: 1, maxLength: 4096 },
            keepExistingUntil: { type: 'string', format: 'date-time' },
          },
        },
        response: { 200: sourceView, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return sources.view(await sources.rotateSecret(projectId, request.params.sourceId, request.body));
    },
  );

  app.delete<{ Params: Params }>(
    '/api/v1/projects/:projectId/sources/:sourceId',
    {
      schema: {
        tags,
        summary: 'Delete a source (its URL answers 404 from then on)',
        security: bearerSecurity,
        params: sourceParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      await sources.remove(projectId, request.params.sourceId);
      reply.code(204);
    },
  );
}
