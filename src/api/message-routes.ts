import type { FastifyInstance } from 'fastify';
import { wakeDeliveryWorkers } from '../delivery/delivery-wakeup.ts';
import type { Publisher, PublishInput } from '../delivery/publisher.ts';
import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { type EndpointId, isId, type MessageId, newId } from '../domain/ids.ts';
import { assertJsonDepth } from '../security/json-depth.ts';
import type { AttemptRecord, DeliveryWithAttempts, MessageRecord } from '../store/delivery-store.ts';
import type { Store } from '../store/store.ts';
import { authorizeProject } from './auth.ts';
import {
  bearerSecurity,
  errorResponses,
  eventTypeName,
  listSchema,
  pagedQuery,
  pageSchema,
  projectIdParams,
} from './schemas.ts';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function messageView(m: MessageRecord) {
  const envelope = JSON.parse(m.body) as { payload: unknown };
  return {
    id: m.id,
    eventType: m.eventType,
    objectType: m.objectType,
    credentialId: m.credentialId,
    userId: m.userId,
    orderingKey: m.orderingKey,
    idempotencyKey: m.idempotencyKey,
    payload: envelope.payload,
    createdAt: new Date(m.createdAtMs).toISOString(),
  };
}

export const attemptView = (a: AttemptRecord) => ({
  id: a.id,
  attemptNumber: a.attemptNumber,
  startedAt: new Date(a.startedAtMs).toISOString(),
  durationMs: a.durationMs,
  outcome: a.outcome,
  statusCode: a.statusCode,
  errorKind: a.errorKind,
  errorMessage: a.errorMessage,
  responseHeaders: a.responseHeaders,
  responseBody: a.responseBody,
  responseBodyTruncated: a.responseBodyTruncated,
  nextAttemptAt: iso(a.nextAttemptAtMs),
});

export const deliveryView = (d: DeliveryWithAttempts) => ({
  id: d.id,
  endpointId: d.endpointId,
  status: d.status,
  attemptCount: d.attemptCount,
  nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAtMs) : null,
  lastAttemptAt: iso(d.lastAttemptAtMs),
  lastStatusCode: d.lastStatusCode,
  lastFailureKind: d.lastFailureKind,
  createdAt: new Date(d.createdAtMs).toISOString(),
  updatedAt: new Date(d.updatedAtMs).toISOString(),
  attempts: d.attempts.map(attemptView),
});

const optionalText = (description: string) =>
  ({ type: 'string', minLength: 1, maxLength: 256, description }) as const;
const nullableText = { type: ['string', 'null'] } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

const messageSchema = {
  type: 'object',
  required: [
    'id',
    'eventType',
    'objectType',
    'credentialId',
    'userId',
    'orderingKey',
    'idempotencyKey',
    'payload',
    'createdAt',
  ],
  properties: {
    id: { type: 'string' },
    eventType: { type: 'string' },
    objectType: nullableText,
    credentialId: nullableText,
    userId: nullableText,
    orderingKey: nullableText,
    idempotencyKey: nullableText,
    payload: { description: 'any JSON value' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const attemptSchema = {
  type: 'object',
  required: [
    'id',
    'attemptNumber',
    'startedAt',
    'durationMs',
    'outcome',
    'statusCode',
    'errorKind',
    'errorMessage',
    'responseHeaders',
    'responseBody',
    'responseBodyTruncated',
    'nextAttemptAt',
  ],
  properties: {
    id: { type: 'string' },
    attemptNumber: { type: 'integer' },
    startedAt: { type: 'string', format: 'date-time' },
    durationMs: { type: 'integer' },
    outcome: { type: 'string', enum: ['succeeded', 'failed'] },
    statusCode: { type: ['integer', 'null'] },
    errorKind: {
      type: ['string', 'null'],
      description:
        'timeout, connection_refused, connection_reset, dns, tls, too_large, egress_blocked, invalid_url, other',
    },
    errorMessage: nullableText,
    responseHeaders: { type: 'object', additionalProperties: { type: 'string' } },
    responseBody: { type: 'string', description: 'the first 4 KiB' },
    responseBodyTruncated: { type: 'boolean' },
    nextAttemptAt: { ...nullableTime, description: 'the retry this attempt scheduled' },
  },
} as const;

export const deliverySchema = {
  type: 'object',
  required: [
    'id',
    'endpointId',
    'status',
    'attemptCount',
    'nextAttemptAt',
    'lastAttemptAt',
    'lastStatusCode',
    'lastFailureKind',
    'createdAt',
    'updatedAt',
    'attempts',
  ],
  properties: {
    id: { type: 'string' },
    endpointId: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'succeeded', 'failed'] },
    attemptCount: { type: 'integer' },
    nextAttemptAt: nullableTime,
    lastAttemptAt: nullableTime,
    lastStatusCode: { type: ['integer', 'null'] },
    lastFailureKind: {
      type: ['string', 'null'],
      description: 'an attempt error kind, http_status, or endpoint_disabled (failed without an attempt)',
    },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    attempts: { type: 'array', items: attemptSchema },
  },
} as const;

const messageParams = {
  type: 'object',
  required: ['projectId', 'messageId'],
  properties: { projectId: { type: 'string' }, messageId: { type: 'string', description: 'msg_… id' } },
} as const;

interface PublishBody {
  eventType: string;
  payload: unknown;
  objectType?: string;
  credentialId?: string;
  userId?: string;
  idempotencyKey?: string;
  orderingKey?: string;
}

export function registerMessageRoutes(
  app: FastifyInstance,
  deps: { store: Store; publisher: Publisher; clock: Clock },
): void {
  const { store, publisher, clock } = deps;
  const base = '/api/v1/projects/:projectId/messages';

  async function findMessage(
    projectId: Parameters<Store['getMessage']>[0],
    messageId: string,
  ): Promise<MessageRecord> {
    const message = isId('message', messageId) ? await store.getMessage(projectId, messageId) : null;
    if (!message) throw notFound(`message ${messageId}`);
    return message;
  }

  app.post<{ Params: { projectId: string }; Body: PublishBody }>(
    base,
    {
      schema: {
        tags: ['messages'],
        summary: 'Publish a message: one delivery per matching endpoint, stored in one transaction',
        security: bearerSecurity,
        params: projectIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['eventType', 'payload'],
          properties: {
            eventType: eventTypeName,
            payload: { description: 'any JSON value; sent as the envelope\'s "payload"' },
            objectType: optionalText("matched against endpoints' objectTypes; default: payload.objectType"),
            credentialId: optionalText(
              'tags the message with a credential (envelope field and hookyard-credential-id header)',
            ),
            userId: optionalText('tags the message with a user (envelope field and hookyard-user-id header)'),
            idempotencyKey: optionalText(
              'a second publish with this key within 24 h returns the first message',
            ),
            orderingKey: optionalText(
              'messages with one key reach each endpoint one at a time, in publish order',
            ),
          },
        },
        response: {
          202: {
            type: 'object',
            required: ['id', 'duplicate', 'deliveries'],
            properties: {
              id: { type: 'string' },
              duplicate: {
                type: 'boolean',
                description: 'true when the idempotency key matched an earlier message',
              },
              deliveries: { type: 'integer', description: 'deliveries created' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const b = request.body;
      assertJsonDepth(b.payload, 'payload');
      const input: PublishInput = { projectId, eventType: b.eventType, payload: b.payload };
      if (b.objectType !== undefined) input.objectType = b.objectType;
      if (b.credentialId !== undefined) input.credentialId = b.credentialId;
      if (b.userId !== undefined) input.userId = b.userId;
      if (b.idempotencyKey !== undefined) input.idempotencyKey = b.idempotencyKey;
      if (b.orderingKey !== undefined) input.orderingKey = b.orderingKey;
      const result = await publisher.publish(input);
      reply.code(202);
      return result;
    },
  );

  app.get<{
    Params: { projectId: string };
    Querystring: { limit: number; after?: string; eventType?: string; credentialId?: string };
  }>(
    base,
    {
      schema: {
        tags: ['messages'],
        summary: 'List messages, newest first',
        security: bearerSecurity,
        params: projectIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pagedQuery('message').properties,
            eventType: { type: 'string', maxLength: 256 },
            credentialId: { type: 'string', maxLength: 256 },
          },
        },
        response: {
          200: pageSchema(messageSchema),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { limit, after, eventType, credentialId } = request.query;
      const page = await store.listMessages(
        projectId,
        {
          ...(eventType !== undefined ? { eventType } : {}),
          ...(credentialId !== undefined ? { credentialId } : {}),
        },
        { limit, ...(after !== undefined ? { after } : {}) },
      );
      return { items: page.items.map(messageView), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { projectId: string; messageId: string } }>(
    `${base}/:messageId`,
    {
      schema: {
        tags: ['messages'],
        summary: 'Get a message',
        security: bearerSecurity,
        params: messageParams,
        response: { 200: messageSchema, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return messageView(await findMessage(projectId, request.params.messageId));
    },
  );

  app.get<{ Params: { projectId: string; messageId: string } }>(
    `${base}/:messageId/deliveries`,
    {
      schema: {
        tags: ['messages'],
        summary: "The message's deliveries, each with its attempts",
        security: bearerSecurity,
        params: messageParams,
        response: {
          200: listSchema(deliverySchema),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const message = await findMessage(projectId, request.params.messageId);
      return { items: (await store.listMessageDeliveries(projectId, message.id)).map(deliveryView) };
    },
  );

  app.post<{ Params: { projectId: string; messageId: string }; Body: { endpointId?: string } }>(
    `${base}/:messageId/resend`,
    {
      schema: {
        tags: ['messages'],
        summary: 'Send the message again, to all its endpoints or to one',
        security: bearerSecurity,
        params: messageParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            endpointId: { type: 'string', description: 'only this endpoint (ep_…); default all' },
          },
        },
        response: {
          202: {
            type: 'object',
            required: ['deliveryIds'],
            properties: {
              deliveryIds: {
                type: 'array',
                items: { type: 'string' },
                description: 'deliveries queued (those still pending are not queued twice)',
              },
            },
          },
          ...errorResponses,
          409: errorResponses[400],
        },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const message = await findMessage(projectId, request.params.messageId);
      const endpointId = request.body?.endpointId;
      let target: { endpointId: EndpointId; newDeliveryId: ReturnType<typeof newId<'delivery'>> } | undefined;
      if (endpointId !== undefined) {
        const endpoint = isId('endpoint', endpointId) ? await store.getEndpoint(projectId, endpointId) : null;
        if (!endpoint) throw notFound(`endpoint ${endpointId}`);
        if (endpoint.userId !== null && endpoint.userId !== message.userId) {
          throw new HookyardError(
            'conflict',
            `endpoint ${endpointId} belongs to user ${endpoint.userId} and gets that user's messages only; message ${message.id} is ${message.userId === null ? 'for no user' : `for user ${message.userId}`}.`,
          );
        }
        target = { endpointId: endpoint.id, newDeliveryId: newId('delivery', clock.nowMs()) };
      }
      const deliveryIds = await store.resendMessage(
        projectId,
        message.id as MessageId,
        clock.nowMs(),
        target,
      );
      if (deliveryIds.length > 0) wakeDeliveryWorkers(store);
      reply.code(202);
      return { deliveryIds };
    },
  );
}
