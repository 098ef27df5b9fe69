import type { FastifyInstance } from 'fastify';
import type { Clock } from '../domain/clock.ts';
import { notFound } from '../domain/errors.ts';
import type { ApiKeyId } from '../domain/ids.ts';
import type { ProjectService } from '../projects/project-service.ts';
import type { ApiKeyRecord, ProjectRecord, Store } from '../store/store.ts';
import { authorizeProject, requireAdmin } from './auth.ts';
import {
  bearerSecurity,
  errorResponses,
  listSchema,
  pagedQuery,
  pageSchema,
  projectIdParams,
} from './schemas.ts';

const projectSchema = {
  type: 'object',
  required: ['id', 'name', 'signingPublicKey', 'createdAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    signingPublicKey: {
      type: 'string',
      description: 'Ed25519 public key, base64 DER (SPKI), for user tokens',
    },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const apiKeySchema = {
  type: 'object',
  required: ['id', 'name', 'hint', 'createdAt', 'revokedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    hint: { type: 'string', description: 'first characters of the key' },
    createdAt: { type: 'string', format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

const nameBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

export const projectView = (p: ProjectRecord) => ({
  id: p.id,
  name: p.name,
  signingPublicKey: p.signingPublicKey,
  createdAt: new Date(p.createdAtMs).toISOString(),
});
const apiKeyView = (k: ApiKeyRecord) => ({
  id: k.id,
  name: k.name,
  hint: k.keyHint,
  createdAt: new Date(k.createdAtMs).toISOString(),
  revokedAt: k.revokedAtMs === null ? null : new Date(k.revokedAtMs).toISOString(),
});

export function registerProjectRoutes(
  app: FastifyInstance,
  deps: { store: Store; projects: ProjectService; clock: Clock },
): void {
  const { store, projects, clock } = deps;

  app.post<{ Body: { name: string } }>(
    '/api/v1/projects',
    {
      schema: {
        tags: ['projects'],
        summary: 'Create a project (operator key only)',
        security: bearerSecurity,
        body: nameBody,
        response: { 201: projectSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const project = await projects.createProject(request.body.name);
      reply.code(201);
      return projectView(project);
    },
  );

  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/api/v1/projects',
    {
      schema: {
        tags: ['projects'],
        summary: 'List the projects this key may see',
        security: bearerSecurity,
        querystring: pagedQuery('project'),
        response: {
          200: pageSchema(projectSchema),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const p = request.principal;
      const page = await store.listProjects({
        limit: request.query.limit,
        after: request.query.after,
        projectIds: p?.kind === 'project' ? [p.projectId] : undefined,
      });
      return { items: page.items.map(projectView), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { projectId: string } }>(
    '/api/v1/projects/:projectId',
    {
      schema: {
        tags: ['projects'],
        summary: 'Get a project',
        security: bearerSecurity,
        params: projectIdParams,
        response: { 200: projectSchema, ...errorResponses },
      },
    },
    async (request) => {
      const id = await authorizeProject(request, store, request.params.projectId);
      const project = await store.getProject(id);
      if (!project) throw notFound(`project ${id}`);
      return projectView(project);
    },
  );

  app.post<{ Params: { projectId: string }; Body: { name?: string } }>(
    '/api/v1/projects/:projectId/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'Create an API key; the key is shown once',
        security: bearerSecurity,
        params: projectIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: {
          201: {
            type: 'object',
            required: ['id', 'key', 'name', 'hint', 'createdAt', 'revokedAt'],
            properties: { ...apiKeySchema.properties, key: { type: 'string', description: 'shown once' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { record, key } = await projects.createApiKey(projectId, request.body?.name ?? 'api key');
      reply.code(201);
      return { ...apiKeyView(record), key };
    },
  );

  app.get<{ Params: { projectId: string } }>(
    '/api/v1/projects/:projectId/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'List API keys (hashes are never returned)',
        security: bearerSecurity,
        params: projectIdParams,
        response: {
          200: listSchema(apiKeySchema),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return { items: (await store.listApiKeys(projectId)).map(apiKeyView) };
    },
  );

  app.delete<{ Params: { projectId: string; keyId: string } }>(
    '/api/v1/projects/:projectId/api-keys/:keyId',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'Revoke an API key',
        security: bearerSecurity,
        params: {
          type: 'object',
          required: ['projectId', 'keyId'],
          properties: { projectId: { type: 'string' }, keyId: { type: 'string' } },
        },
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const ok = await store.revokeApiKey(projectId, request.params.keyId as ApiKeyId, clock.nowMs());
      if (!ok) throw notFound(`API key ${request.params.keyId}`);
      reply.code(204);
    },
  );
}
