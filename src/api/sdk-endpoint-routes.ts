import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EndpointInput, EndpointPatch, EndpointService } from '../delivery/endpoint-service.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { isId } from '../domain/ids.ts';
import { DELIVERY_STATUSES, type DeliveryStatus, type EndpointRecord } from '../store/delivery-store.ts';
import type { Store } from '../store/store.ts';
import { parseTime, timeBound } from './activity-routes.ts';
import { endpointFields, endpointParams, endpointSchema, endpointView } from './endpoint-routes.ts';
import { attemptSchema, attemptView, deliverySchema, deliveryView } from './message-routes.ts';
import { errorResponses, pagedQuery, pageSchema } from './schemas.ts';
import { SDK_PREFIX, sdkUserOf, userTokenSecurity } from './sdk-auth.ts';

/** A user's own endpoints, at most: a user token is held by a browser, so what it can create is bounded. */
export const MAX_ENDPOINTS_PER_USER = 50;

const sdkParams = {
  type: 'object',
  required: ['projectId'],
  properties: { projectId: { type: 'string', description: 'prj_… id' } },
} as const;

const sdkDeliverySchema = {
  ...deliverySchema,
  required: [...deliverySchema.required, 'messageId'],
  properties: { ...deliverySchema.properties, messageId: { type: 'string' } },
} as const;

const sdkAttemptSchema = {
  ...attemptSchema,
  required: [...attemptSchema.required, 'deliveryId', 'messageId'],
  properties: { ...attemptSchema.properties, deliveryId: { type: 'string' }, messageId: { type: 'string' } },
} as const;

/**
 * A user's own endpoints, managed with that user's token: the same fields as the management API,
 * the user taken from the token. Another user's endpoint answers 404, as one that does not exist.
 */
export function registerSdkEndpointRoutes(
  sdk: FastifyInstance,
  deps: { store: Store; endpoints: EndpointService },
): void {
  const { store, endpoints } = deps;
  const base = `${SDK_PREFIX}/endpoints`;

  async function owned(request: FastifyRequest, endpointId: string): Promise<EndpointRecord> {
    const user = sdkUserOf(request);
    const endpoint = isId('endpoint', endpointId)
      ? await store.getEndpoint(user.projectId, endpointId)
      : null;
    if (!endpoint || endpoint.userId !== user.userId) throw notFound(`endpoint ${endpointId}`);
    return endpoint;
  }

  sdk.post<{ Params: { projectId: string }; Body: Omit<EndpointInput, 'userId'> }>(
    base,
    {
      schema: {
        tags: ['sdk'],
        summary: "Create one of the user's endpoints; its signing secret is shown once",
        security: userTokenSecurity,
        params: sdkParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            ...endpointFields,
            secret: {
              type: 'string',
              description:
                'import an existing secret (whsec_ + base64 of 24 to 64 bytes) instead of generating one',
            },
          },
        },
        response: {
          201: {
            ...endpointSchema,
            required: [...endpointSchema.required, 'secret', 'warnings'],
            properties: {
              ...endpointSchema.properties,
              secret: { type: 'string', description: 'whsec_…; shown once' },
              warnings: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errorResponses,
          409: errorResponses[400],
        },
      },
    },
    async (request, reply) => {
      const user = sdkUserOf(request);
      const existing = await store.listEndpoints(
        user.projectId,
        { limit: MAX_ENDPOINTS_PER_USER },
        { userId: user.userId },
      );
      if (existing.nextCursor !== null || existing.items.length >= MAX_ENDPOINTS_PER_USER) {
        throw new HookyardError(
          'conflict',
          `user ${user.userId} has ${MAX_ENDPOINTS_PER_USER} endpoints, the most a user may create; delete one first.`,
        );
      }
      const { endpoint, secret, warnings } = await endpoints.create(user.projectId, {
        ...request.body,
        userId: user.userId,
      });
      reply.code(201);
      return { ...endpointView(endpoint), secret, warnings };
    },
  );

  sdk.get<{ Params: { projectId: string }; Querystring: { limit: number; after?: string } }>(
    base,
    {
      schema: {
        tags: ['sdk'],
        summary: "List the user's endpoints",
        security: userTokenSecurity,
        params: sdkParams,
        querystring: pagedQuery('endpoint'),
        response: { 200: pageSchema(endpointSchema), ...errorResponses },
      },
    },
    async (request) => {
      const user = sdkUserOf(request);
      const page = await store.listEndpoints(user.projectId, request.query, { userId: user.userId });
      return { items: page.items.map(endpointView), nextCursor: page.nextCursor };
    },
  );

  sdk.get<{ Params: { projectId: string; endpointId: string } }>(
    `${base}/:endpointId`,
    {
      schema: {
        tags: ['sdk'],
        summary: "Get one of the user's endpoints with its health",
        security: userTokenSecurity,
        params: endpointParams,
        response: { 200: endpointSchema, ...errorResponses },
      },
    },
    async (request) => endpointView(await owned(request, request.params.endpointId)),
  );

  sdk.patch<{ Params: { projectId: string; endpointId: string }; Body: EndpointPatch }>(
    `${base}/:endpointId`,
    {
      schema: {
        tags: ['sdk'],
        summary: "Update one of the user's endpoints (enabled: true also clears its health)",
        security: userTokenSecurity,
        params: endpointParams,
        body: { type: 'object', additionalProperties: false, properties: endpointFields },
        response: { 200: endpointSchema, ...errorResponses },
      },
    },
    async (request) => {
      const endpoint = await owned(request, request.params.endpointId);
      return endpointView(await endpoints.update(endpoint.projectId, endpoint.id, request.body ?? {}));
    },
  );

  sdk.delete<{ Params: { projectId: string; endpointId: string } }>(
    `${base}/:endpointId`,
    {
      schema: {
        tags: ['sdk'],
        summary: "Delete one of the user's endpoints with its deliveries and attempts",
        security: userTokenSecurity,
        params: endpointParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const endpoint = await owned(request, request.params.endpointId);
      await endpoints.remove(endpoint.projectId, endpoint.id);
      reply.code(204);
    },
  );

  sdk.get<{
    Params: { projectId: string; endpointId: string };
    Querystring: { limit: number; after?: string; status?: DeliveryStatus };
  }>(
    `${base}/:endpointId/deliveries`,
    {
      schema: {
        tags: ['sdk'],
        summary: "The endpoint's deliveries, newest first, by status (read-only)",
        security: userTokenSecurity,
        params: endpointParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pagedQuery('delivery').properties,
            status: { type: 'string', enum: [...DELIVERY_STATUSES] },
          },
        },
        response: { 200: pageSchema(sdkDeliverySchema), ...errorResponses },
      },
    },
    async (request) => {
      const endpoint = await owned(request, request.params.endpointId);
      const { limit, after, status } = request.query;
      const page = await store.listDeliveries(
        endpoint.projectId,
        { endpointId: endpoint.id, ...(status !== undefined ? { status } : {}) },
        { limit, ...(after !== undefined ? { after } : {}) },
      );
      // Attempts are listed by …/attempts, as on the management API.
      return {
        items: page.items.map((d) => ({ ...deliveryView({ ...d, attempts: [] }), messageId: d.messageId })),
        nextCursor: page.nextCursor,
      };
    },
  );

  sdk.get<{
    Params: { projectId: string; endpointId: string };
    Querystring: {
      limit: number;
      after?: string;
      outcome?: 'succeeded' | 'failed';
      from?: string;
      to?: string;
    };
  }>(
    `${base}/:endpointId/attempts`,
    {
      schema: {
        tags: ['sdk'],
        summary: "The endpoint's delivery attempts, newest first, by outcome and time (read-only)",
        security: userTokenSecurity,
        params: endpointParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pagedQuery('attempt').properties,
            outcome: { type: 'string', enum: ['succeeded', 'failed'] },
            from: timeBound('attempts started at or after'),
            to: timeBound('attempts started before'),
          },
        },
        response: { 200: pageSchema(sdkAttemptSchema), ...errorResponses },
      },
    },
    async (request) => {
      const endpoint = await owned(request, request.params.endpointId);
      const { limit, after, outcome } = request.query;
      const from = parseTime('from', request.query.from);
      const to = parseTime('to', request.query.to);
      const page = await store.listEndpointAttempts(
        endpoint.projectId,
        endpoint.id,
        {
          ...(outcome ? { outcome } : {}),
          ...(from !== undefined ? { startedFromMs: from } : {}),
          ...(to !== undefined ? { startedToMs: to } : {}),
        },
        { limit, ...(after !== undefined ? { after } : {}) },
      );
      return {
        items: page.items.map((a) => ({
          ...attemptView(a),
          deliveryId: a.deliveryId,
          messageId: a.messageId,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
}
