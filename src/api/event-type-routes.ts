import type { FastifyInstance } from 'fastify';
import { EVENT_TYPE_PATTERN } from '../delivery/publisher.ts';
import type { Clock } from '../domain/clock.ts';
import { notFound } from '../domain/errors.ts';
import { assertJsonDepth } from '../security/json-depth.ts';
import type { EventTypeRecord } from '../store/delivery-store.ts';
import type { Store } from '../store/store.ts';
import { authorizeProject } from './auth.ts';
import { bearerSecurity, errorResponses, listSchema, projectIdParams } from './schemas.ts';

const eventTypeView = (t: EventTypeRecord) => ({
  name: t.name,
  description: t.description,
  example: t.example,
  createdAt: new Date(t.createdAtMs).toISOString(),
  updatedAt: new Date(t.updatedAtMs).toISOString(),
});

const eventTypeSchema = {
  type: 'object',
  required: ['name', 'description', 'example', 'createdAt', 'updatedAt'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    example: { description: 'an example payload (any JSON), or null' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

/**
 * The event type registry: names with a description and an example payload, for the dashboard
 * and generated docs. Registration is documentation only; publishing an unregistered type is fine.
 */
export function registerEventTypeRoutes(app: FastifyInstance, deps: { store: Store; clock: Clock }): void {
  const { store, clock } = deps;
  const base = '/api/v1/projects/:projectId/event-types';

  app.post<{
    Params: { projectId: string };
    Body: { name: string; description?: string; example?: unknown };
  }>(
    base,
    {
      schema: {
        tags: ['event-types'],
        summary: 'Register an event type, or update its description and example',
        security: bearerSecurity,
        params: projectIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: {
              type: 'string',
              maxLength: 256,
              pattern: EVENT_TYPE_PATTERN,
              description: 'e.g. invoice.paid',
            },
            description: { type: 'string', maxLength: 2000 },
            example: { description: 'an example payload (any JSON)' },
          },
        },
        response: { 200: eventTypeSchema, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      assertJsonDepth(request.body.example, 'example');
      const nowMs = clock.nowMs();
      const stored = await store.upsertEventType({
        projectId,
        name: request.body.name,
        description: request.body.description ?? '',
        example: request.body.example ?? null,
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      });
      return eventTypeView(stored);
    },
  );

  app.get<{ Params: { projectId: string } }>(
    base,
    {
      schema: {
        tags: ['event-types'],
        summary: 'List registered event types',
        security: bearerSecurity,
        params: projectIdParams,
        response: {
          200: listSchema(eventTypeSchema),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return { items: (await store.listEventTypes(projectId)).map(eventTypeView) };
    },
  );

  app.get<{ Params: { projectId: string; name: string } }>(
    `${base}/:name`,
    {
      schema: {
        tags: ['event-types'],
        summary: 'Get a registered event type',
        security: bearerSecurity,
        params: {
          type: 'object',
          required: ['projectId', 'name'],
          properties: { projectId: { type: 'string' }, name: { type: 'string' } },
        },
        response: { 200: eventTypeSchema, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const found = await store.getEventType(projectId, request.params.name);
      if (!found) throw notFound(`event type ${request.params.name}`);
      return eventTypeView(found);
    },
  );
}
