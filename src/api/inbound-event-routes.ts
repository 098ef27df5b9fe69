import { hash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { type EndpointId, type EventId, newId, type SourceId, type TenantId } from '../domain/ids.ts';
import { storedSettings } from '../ingest/source-settings.ts';
import type { InboundForwarder } from '../routing/inbound-forwarder.ts';
import {
  INBOUND_EVENT_STATUSES,
  type InboundEventFilter,
  type InboundEventRecord,
  type InboundEventStatus,
  type InboundEventSummary,
  ROUTING_JOB_STATUSES,
  type RoutingJobStatus,
} from '../store/inbound-store.ts';
import type { Store } from '../store/store.ts';
import { authorizeProject } from './auth.ts';
import { bearerSecurity, errorResponses, pagedQuery, pageSchema, projectIdParams } from './schemas.ts';

const iso = (ms: number) => new Date(ms).toISOString();

function summaryView(e: InboundEventSummary) {
  return {
    id: e.id,
    sourceId: e.sourceId,
    providerEventId: e.providerEventId,
    eventType: e.eventType,
    method: e.method,
    status: e.status,
    routingState: e.processStatus,
    tenantId: e.tenantId,
    credentialId: e.credentialId,
    verified: e.verification.ok,
    jsonValid: e.jsonValid,
    bodyBytes: e.bodyBytes,
    receivedAt: iso(e.receivedAtMs),
  };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
function bodyView(body: Buffer): { body: string | null; bodyBase64: string | null } {
  try {
    return { body: UTF8.decode(body), bodyBase64: null };
  } catch {
    return { body: null, bodyBase64: body.toString('base64') };
  }
}

function detailView(e: InboundEventRecord) {
  return {
    ...summaryView({ ...e, bodyBytes: e.body.length }),
    url: e.url,
    dedupeKey: e.dedupeKey,
    headers: e.headers,
    ...bodyView(e.body),
    // Not stored: computed here, the one place that shows it.
    bodySha256: hash('sha256', e.body, 'hex'),
    verification: e.verification,
    routing: {
      status: e.status,
      tenantId: e.tenantId,
      credentialId: e.credentialId,
      routingKey: e.routingKey,
      decided: e.processStatus === 'done',
      state: e.processStatus,
      attempts: e.processAttempts,
      lastError: e.processError,
    },
  };
}

const eventSummary = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    sourceId: { type: 'string' },
    providerEventId: { type: ['string', 'null'] },
    eventType: { type: ['string', 'null'] },
    method: { type: 'string' },
    status: { type: 'string', enum: INBOUND_EVENT_STATUSES },
    routingState: {
      type: 'string',
      enum: ROUTING_JOB_STATUSES,
      description:
        'its routing job: pending (waiting or being retried), done, or failed (set aside after repeated failures; see routing.lastError and POST …/replay)',
    },
    tenantId: { type: ['string', 'null'] },
    credentialId: { type: ['string', 'null'] },
    verified: { type: 'boolean' },
    jsonValid: { type: ['boolean', 'null'] },
    bodyBytes: { type: 'integer' },
    receivedAt: { type: 'string' },
  },
} as const;

const tenantView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    sourceId: { type: 'string' },
    providerAccountId: { type: 'string' },
    userId: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
  },
} as const;

interface ListQuery {
  limit: number;
  after?: string;
  sourceId?: string;
  status?: InboundEventStatus;
  routingState?: RoutingJobStatus;
  tenantId?: string;
  providerEventId?: string;
  from?: string;
  to?: string;
}

function time(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (!Number.isFinite(t))
    throw new HookyardError('validation_failed', `${field}: expected an ISO 8601 date-time`);
  return t;
}

export function registerInboundEventRoutes(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock; wakeRouter: () => void; forwarder: InboundForwarder },
): void {
  const { store } = deps;

  app.get<{ Params: { projectId: string }; Querystring: ListQuery }>(
    '/api/v1/projects/:projectId/events',
    {
      schema: {
        tags: ['events'],
        summary: 'List inbound events, newest first',
        security: bearerSecurity,
        params: projectIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pagedQuery('event').properties,
            sourceId: { type: 'string' },
            status: { type: 'string', enum: INBOUND_EVENT_STATUSES },
            routingState: { type: 'string', enum: ROUTING_JOB_STATUSES },
            tenantId: { type: 'string' },
            providerEventId: { type: 'string' },
            from: { type: 'string', format: 'date-time', description: 'received at or after' },
            to: { type: 'string', format: 'date-time', description: 'received before' },
          },
        },
        response: {
          200: pageSchema(eventSummary),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const q = request.query;
      const filter: InboundEventFilter = {};
      if (q.sourceId) filter.sourceId = q.sourceId as SourceId;
      if (q.status) filter.status = q.status;
      if (q.routingState) filter.processStatus = q.routingState;
      if (q.tenantId) filter.tenantId = q.tenantId;
      if (q.providerEventId) filter.providerEventId = q.providerEventId;
      const from = time(q.from, 'from');
      const to = time(q.to, 'to');
      if (from !== undefined) filter.receivedFromMs = from;
      if (to !== undefined) filter.receivedToMs = to;
      const page = await store.listInboundEvents(projectId, filter, {
        limit: q.limit,
        ...(q.after ? { after: q.after } : {}),
      });
      return { items: page.items.map(summaryView), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { projectId: string; eventId: string } }>(
    '/api/v1/projects/:projectId/events/:eventId',
    {
      schema: {
        tags: ['events'],
        summary: 'One inbound event: headers, body, verification result and routing decision',
        security: bearerSecurity,
        params: {
          type: 'object',
          required: ['projectId', 'eventId'],
          properties: { projectId: { type: 'string' }, eventId: { type: 'string' } },
        },
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const event = await store.getInboundEvent(projectId, request.params.eventId as EventId);
      if (!event) throw notFound(`event ${request.params.eventId}`);
      return detailView(event);
    },
  );

  app.post<{ Params: { projectId: string; eventId: string }; Body: { endpointId?: string } | null }>(
    '/api/v1/projects/:projectId/events/:eventId/replay',
    {
      schema: {
        tags: ['events'],
        summary: 'Forward a stored event again: to every endpoint, or to one',
        description:
          'A routed event becomes a new message (a new webhookId) to every endpoint whose filters take it, or only to `endpointId`. An event whose routing job was set aside (routingState failed) and no endpointId: its routing job is queued again, so every subscriber gets it, with its attempts reset.',
        security: bearerSecurity,
        params: {
          type: 'object',
          required: ['projectId', 'eventId'],
          properties: { projectId: { type: 'string' }, eventId: { type: 'string' } },
        },
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            endpointId: { type: 'string', minLength: 1, maxLength: 100, description: 'only this endpoint' },
          },
        },
        response: {
          202: {
            type: 'object',
            required: ['eventId', 'routingRequeued', 'messageId', 'deliveries'],
            properties: {
              eventId: { type: 'string' },
              routingRequeued: {
                type: 'boolean',
                description: 'true: the set-aside routing job was queued again (no message yet)',
              },
              messageId: { type: ['string', 'null'], description: 'the new message, when forwarded now' },
              deliveries: { type: ['integer', 'null'], description: 'deliveries the new message got' },
            },
          },
          ...errorResponses,
          409: errorResponses[400],
        },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const eventId = request.params.eventId as EventId;
      const endpointId = request.body?.endpointId as EndpointId | undefined;
      reply.code(202);
      if (!endpointId && (await store.requeueFailedInboundEvent(projectId, eventId, deps.clock.nowMs()))) {
        deps.wakeRouter();
        return { eventId, routingRequeued: true, messageId: null, deliveries: null };
      }
      const sent = await deps.forwarder.forwardAgain(projectId, eventId, endpointId ? { endpointId } : {});
      return { eventId, routingRequeued: false, messageId: sent.messageId, deliveries: sent.deliveries };
    },
  );

  const sourceParams = {
    type: 'object',
    required: ['projectId', 'sourceId'],
    properties: { projectId: { type: 'string' }, sourceId: { type: 'string' } },
  } as const;

  app.post<{
    Params: { projectId: string; sourceId: string };
    Body: { providerAccountId: string; userId?: string };
  }>(
    '/api/v1/projects/:projectId/sources/:sourceId/tenants',
    {
      schema: {
        tags: ['routing'],
        summary:
          'Bind a provider account id (Slack team_id, HubSpot portalId…) to a tenant; replays its unrouted events',
        security: bearerSecurity,
        params: sourceParams,
        body: {
          type: 'object',
          required: ['providerAccountId'],
          additionalProperties: false,
          properties: {
            providerAccountId: { type: 'string', minLength: 1, maxLength: 500 },
            userId: {
              type: 'string',
              minLength: 1,
              maxLength: 500,
              description: "the project's own id for the user",
            },
          },
        },
        response: {
          201: { type: 'object', properties: { tenant: tenantView, replayed: { type: 'integer' } } },
          200: {
            description: 'the same binding existed already',
            type: 'object',
            properties: { tenant: tenantView, replayed: { type: 'integer' } },
          },
          ...errorResponses,
          409: {
            ...errorResponses[400],
            description:
              'the source has no routing rule, or the account id is bound to another user (delete that binding first)',
          },
        },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const source = await store.getSource(projectId, request.params.sourceId as SourceId);
      if (!source) throw notFound(`source ${request.params.sourceId}`);
      // Without a routing rule no event carries an account id, so the binding could match nothing.
      if (!storedSettings(source.settings).routing) {
        throw new HookyardError(
          'conflict',
          `source ${source.id} has no routing rule, so its events carry no account id for a binding to match; set one first (PATCH /api/v1/projects/${projectId}/sources/${source.id} with "routing": { "jsonPath": "$.team_id" } or { "header": "…" }).`,
        );
      }
      const now = deps.clock.nowMs();
      const userId = request.body.userId ?? null;
      const { tenant, created } = await store.upsertTenant({
        id: newId('tenant', now),
        projectId,
        sourceId: source.id,
        providerAccountId: request.body.providerAccountId,
        userId,
        createdAtMs: now,
      });
      // Moving an account's events to another user is not done by a repeated bind: it would
      // silently redirect them. The existing binding must be removed first.
      if (!created && tenant.userId !== userId) {
        throw new HookyardError(
          'conflict',
          `account ${tenant.providerAccountId} is already bound to ${tenant.userId === null ? 'no user' : `user ${tenant.userId}`} (${tenant.id}); delete that binding (DELETE /api/v1/projects/${projectId}/sources/${source.id}/tenants/${tenant.id}) and bind again to change the user.`,
        );
      }
      const replayed = await store.requeueUnrouted(source.id, tenant.providerAccountId, now);
      if (replayed > 0) deps.wakeRouter();
      reply.code(created ? 201 : 200);
      return {
        tenant: { ...tenant, createdAt: iso(tenant.createdAtMs) },
        replayed,
      };
    },
  );

  app.get<{ Params: { projectId: string; sourceId: string } }>(
    '/api/v1/projects/:projectId/sources/:sourceId/tenants',
    {
      schema: {
        tags: ['routing'],
        summary: 'List tenant bindings of a source',
        security: bearerSecurity,
        params: sourceParams,
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: tenantView } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const source = await store.getSource(projectId, request.params.sourceId as SourceId);
      if (!source) throw notFound(`source ${request.params.sourceId}`);
      const items = await store.listTenants(projectId, source.id);
      return { items: items.map((t) => ({ ...t, createdAt: iso(t.createdAtMs) })) };
    },
  );

  app.delete<{ Params: { projectId: string; sourceId: string; tenantId: string } }>(
    '/api/v1/projects/:projectId/sources/:sourceId/tenants/:tenantId',
    {
      schema: {
        tags: ['routing'],
        summary: 'Remove a tenant binding (later events with its account id wait in the unrouted inbox)',
        security: bearerSecurity,
        params: {
          type: 'object',
          required: ['projectId', 'sourceId', 'tenantId'],
          properties: {
            projectId: { type: 'string' },
            sourceId: { type: 'string' },
            tenantId: { type: 'string' },
          },
        },
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      if (!(await store.deleteTenant(projectId, request.params.tenantId as TenantId))) {
        throw notFound(`tenant ${request.params.tenantId}`);
      }
      reply.code(204);
    },
  );
}
