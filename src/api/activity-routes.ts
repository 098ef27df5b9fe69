import type { FastifyInstance } from 'fastify';
import { HookyardError, notFound } from '../domain/errors.ts';
import { isId } from '../domain/ids.ts';
import { refusalView } from '../observe/live-stream.ts';
import { REFUSAL_REASON_CODES } from '../store/console-store.ts';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../store/delivery-store.ts';
import type { Store } from '../store/store.ts';
import { authorizeProject } from './auth.ts';
import { attemptSchema, attemptView, deliverySchema, deliveryView } from './message-routes.ts';
import { bearerSecurity, errorResponses, pagedQuery, pageSchema } from './schemas.ts';

/** Time bounds in a query: ISO 8601 date-times. */
export const timeBound = (description: string) =>
  ({ type: 'string', format: 'date-time', description }) as const;

export function parseTime(field: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) {
    throw new HookyardError(
      'validation_failed',
      `querystring.${field}: "${raw}" is not a date-time; expected ISO 8601 such as 2026-01-31T12:00:00Z.`,
    );
  }
  return ms;
}

const refusedSchema = {
  type: 'object',
  required: ['id', 'sourceId', 'reasonCode', 'reason', 'status', 'receivedAt', 'bodyBytes', 'bodySha256'],
  properties: {
    id: { type: 'string' },
    sourceId: { type: 'string' },
    reasonCode: { type: 'string', enum: [...REFUSAL_REASON_CODES] },
    reason: { type: 'string' },
    status: { type: 'integer', description: 'the HTTP status answered (0 on a not_recorded row)' },
    method: { type: 'string' },
    path: { type: 'string', description: 'the path only; the query is not kept' },
    metadata: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'content-type, content-length, user-agent, x-forwarded-for when sent, and headerNames',
    },
    remoteAddress: { type: ['string', 'null'] },
    bodyBytes: { type: 'integer' },
    bodySha256: { type: ['string', 'null'], description: 'null when refused before the body was read' },
    count: { type: 'integer', description: '1, or how many refusals a not_recorded row stands for' },
    receivedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export function registerActivityRoutes(app: FastifyInstance, deps: { store: Store }): void {
  const { store } = deps;
  const base = '/api/v1/projects/:projectId';

  app.get<{
    Params: { projectId: string };
    Querystring: { limit: number; after?: string; status?: DeliveryStatus; endpointId?: string };
  }>(
    `${base}/deliveries`,
    {
      schema: {
        tags: ['messages'],
        summary: "The project's deliveries, newest first, by status and endpoint",
        security: bearerSecurity,
        params: {
          type: 'object',
          required: ['projectId'],
          properties: { projectId: { type: 'string' } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pagedQuery('delivery').properties,
            status: { type: 'string', enum: [...DELIVERY_STATUSES] },
            endpointId: {
              type: 'string',
              maxLength: 100,
              description: 'only deliveries to this endpoint (ep_…)',
            },
          },
        },
        response: { 200: pageSchema(deliverySchema), ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { limit, after, status, endpointId } = request.query;
      if (endpointId !== undefined && !isId('endpoint', endpointId)) throw notFound(`endpoint ${endpointId}`);
      const page = await store.listDeliveries(
        projectId,
        {
          ...(status !== undefined ? { status } : {}),
          ...(endpointId !== undefined && isId('endpoint', endpointId) ? { endpointId } : {}),
        },
        { limit, ...(after !== undefined ? { after } : {}) },
      );
      // A listing does not carry each delivery's attempts: GET …/messages/{id}/deliveries does.
      return {
        items: page.items.map((d) => deliveryView({ ...d, attempts: [] })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get<{
    Params: { projectId: string; endpointId: string };
    Querystring: {
      limit: number;
      after?: string;
      outcome?: 'succeeded' | 'failed';
      from?: string;
      to?: string;
    };
  }>(
    `${base}/endpoints/:endpointId/attempts`,
    {
      schema: {
        tags: ['endpoints'],
        summary: "The endpoint's delivery attempts, newest first, by outcome and time",
        security: bearerSecurity,
        params: {
          type: 'object',
          required: ['projectId', 'endpointId'],
          properties: { projectId: { type: 'string' }, endpointId: { type: 'string' } },
        },
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
        response: {
          200: pageSchema({
            ...attemptSchema,
            required: [...attemptSchema.required, 'deliveryId', 'messageId'],
            properties: {
              ...attemptSchema.properties,
              deliveryId: { type: 'string' },
              messageId: { type: 'string' },
            },
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { endpointId } = request.params;
      const endpoint = isId('endpoint', endpointId) ? await store.getEndpoint(projectId, endpointId) : null;
      if (!endpoint) throw notFound(`endpoint ${endpointId}`);
      const { limit, after, outcome } = request.query;
      const from = parseTime('from', request.query.from);
      const to = parseTime('to', request.query.to);
      const page = await store.listEndpointAttempts(
        projectId,
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

  app.get<{
    Params: { projectId: string; sourceId: string };
    Querystring: { limit: number; after?: string };
  }>(
    `${base}/sources/:sourceId/refused`,
    {
      schema: {
        tags: ['sources'],
        summary:
          'Inbound requests to this source refused before storage (bad signature, too large, failed handshake…), newest first; never the body',
        security: bearerSecurity,
        params: {
          type: 'object',
          required: ['projectId', 'sourceId'],
          properties: { projectId: { type: 'string' }, sourceId: { type: 'string' } },
        },
        querystring: pagedQuery('refusedRequest'),
        response: { 200: pageSchema(refusedSchema), ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { sourceId } = request.params;
      const source = isId('source', sourceId) ? await store.getSource(projectId, sourceId) : null;
      if (!source) throw notFound(`source ${sourceId}`);
      const { limit, after } = request.query;
      const page = await store.listRefusedRequests(projectId, source.id, {
        limit,
        ...(after !== undefined ? { after } : {}),
      });
      return { items: page.items.map(refusalView), nextCursor: page.nextCursor };
    },
  );
}
