import type { FastifyInstance } from 'fastify';
import type {
  DeliverySettingsInput,
  EndpointInput,
  EndpointPatch,
  EndpointService,
} from '../delivery/endpoint-service.ts';
import { maskEndpointHeaders } from '../delivery/sealed-endpoint-headers.ts';
import { MAX_ROTATION_GRACE_MS } from '../delivery/sealed-endpoint-secrets.ts';
import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { isId } from '../domain/ids.ts';
import { MAX_RETRIES, MAX_RETRY_DELAY_MS } from '../domain/retry-policy.ts';
import {
  type DeliverySettingsRecord,
  type EndpointRecord,
  SIGNATURE_SCHEMES,
} from '../store/delivery-store.ts';
import type { Store } from '../store/store.ts';
import { authorizeProject } from './auth.ts';
import { bearerSecurity, errorResponses, pagedQuery, pageSchema, projectIdParams } from './schemas.ts';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const endpointView = (e: EndpointRecord) => ({
  id: e.id,
  userId: e.userId,
  url: e.url,
  name: e.name,
  description: e.description,
  eventTypes: e.eventTypes,
  objectTypes: e.objectTypes,
  headers: maskEndpointHeaders(e.headers),
  rateLimitPerSecond: e.rateLimitPerSecond,
  maxConcurrency: e.maxConcurrency,
  timeoutMs: e.timeoutMs,
  signatureScheme: e.signatureScheme,
  signatureHeader: e.signatureHeader,
  enabled: e.enabled,
  status: !e.enabled ? 'disabled' : e.health.state,
  health: {
    state: e.health.state,
    reason: e.health.reason,
    changedAt: iso(e.health.changedAtMs),
    consecutiveFailures: e.health.consecutiveFailures,
    failedSinceSuccess: e.health.failedSinceSuccess,
    firstFailureAt: iso(e.health.firstFailureAtMs),
    lastSuccessAt: iso(e.health.lastSuccessAtMs),
  },
  createdAt: new Date(e.createdAtMs).toISOString(),
  updatedAt: new Date(e.updatedAtMs).toISOString(),
});

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const endpointSchema = {
  type: 'object',
  required: [
    'id',
    'userId',
    'url',
    'name',
    'description',
    'eventTypes',
    'objectTypes',
    'headers',
    'rateLimitPerSecond',
    'maxConcurrency',
    'timeoutMs',
    'signatureScheme',
    'signatureHeader',
    'enabled',
    'status',
    'health',
    'createdAt',
    'updatedAt',
  ],
  properties: {
    id: { type: 'string' },
    userId: {
      type: ['string', 'null'],
      description: "the user it belongs to (gets only that user's messages); null: project-wide",
    },
    url: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    eventTypes: { type: 'array', items: { type: 'string' } },
    objectTypes: { type: 'array', items: { type: 'string' } },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    rateLimitPerSecond: { type: ['integer', 'null'] },
    maxConcurrency: {
      type: ['integer', 'null'],
      description: 'null: no limit of its own (up to 16 at once in each delivering process)',
    },
    timeoutMs: { type: 'integer' },
    signatureScheme: { type: 'string', enum: [...SIGNATURE_SCHEMES] },
    signatureHeader: { type: ['string', 'null'] },
    enabled: { type: 'boolean', description: "the project's switch" },
    status: {
      type: 'string',
      enum: ['active', 'failing', 'disabled'],
      description: 'disabled when switched off or disabled by health',
    },
    health: {
      type: 'object',
      required: [
        'state',
        'reason',
        'changedAt',
        'consecutiveFailures',
        'failedSinceSuccess',
        'firstFailureAt',
        'lastSuccessAt',
      ],
      properties: {
        state: { type: 'string', enum: ['active', 'failing', 'disabled'] },
        reason: {
          type: ['string', 'null'],
          description:
            'why it last changed: consecutive_failures, sustained_failure, gone, recovered, manual_enable',
        },
        changedAt: nullableTime,
        consecutiveFailures: { type: 'integer' },
        failedSinceSuccess: { type: 'integer' },
        firstFailureAt: nullableTime,
        lastSuccessAt: nullableTime,
      },
    },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const filterList = (description: string) =>
  ({
    type: 'array',
    maxItems: 256,
    items: { type: 'string', minLength: 1, maxLength: 256 },
    description,
  }) as const;

export const endpointFields = {
  url: { type: 'string', minLength: 1, maxLength: 2048, description: 'http(s) URL deliveries are POSTed to' },
  name: { type: 'string', maxLength: 200 },
  description: { type: 'string', maxLength: 2000 },
  eventTypes: filterList('event types to receive: exact, "*" or a prefix like "invoice.*"; empty = all'),
  objectTypes: filterList('object types to receive; empty or "*" = all'),
  headers: {
    type: 'object',
    additionalProperties: { type: 'string' },
    description:
      'extra request headers sent with every delivery (at most 32; values visible ASCII, at most 4096 characters); values are sealed at rest and shown as "[sealed]", and "[sealed]" sent back keeps a stored value',
  },
  rateLimitPerSecond: { type: ['integer', 'null'], minimum: 1, maximum: 10_000 },
  maxConcurrency: {
    type: ['integer', 'null'],
    minimum: 1,
    maximum: 256,
    description:
      'attempts in flight at once across the whole deployment; null (the default): no limit of its own, up to 16 at once in each delivering process',
  },
  timeoutMs: { type: 'integer', minimum: 100, maximum: 120_000, description: 'default 15000' },
  signatureScheme: {
    type: 'string',
    enum: [...SIGNATURE_SCHEMES],
    description:
      'Standard Webhooks headers always; "+hmac-sha256-hex" also sends a hex HMAC-SHA256 of the body (keyed with the whole whsec_ string) in signatureHeader',
  },
  signatureHeader: {
    type: ['string', 'null'],
    minLength: 1,
    maxLength: 128,
    description: `default X-Webhook-Signature`,
  },
  enabled: { type: 'boolean' },
} as const;

export const endpointParams = {
  type: 'object',
  required: ['projectId', 'endpointId'],
  properties: { projectId: { type: 'string' }, endpointId: { type: 'string', description: 'ep_… id' } },
} as const;

const settingsSchema = {
  type: 'object',
  required: ['retryScheduleMs', 'egressAllow', 'updatedAt'],
  properties: {
    retryScheduleMs: {
      type: ['array', 'null'],
      items: { type: 'integer' },
      description: 'wait before each retry; null = the default (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)',
    },
    egressAllow: {
      type: ['array', 'null'],
      items: { type: 'string' },
      description: "CIDRs narrowing the operator's egress allow list for this project; null = the operator's",
    },
    updatedAt: nullableTime,
  },
} as const;

const settingsView = (s: DeliverySettingsRecord | null) => ({
  retryScheduleMs: s?.retryDelaysMs ?? null,
  egressAllow: s?.egressAllow ?? null,
  updatedAt: s ? new Date(s.updatedAtMs).toISOString() : null,
});

export function registerEndpointRoutes(
  app: FastifyInstance,
  deps: { store: Store; endpoints: EndpointService; clock: Clock },
): void {
  const { store, endpoints } = deps;
  const base = '/api/v1/projects/:projectId/endpoints';

  async function scope(
    request: Parameters<typeof authorizeProject>[0],
    projectId: string,
    endpointId?: string,
  ) {
    const p = await authorizeProject(request, store, projectId);
    if (endpointId !== undefined && !isId('endpoint', endpointId)) throw notFound(`endpoint ${endpointId}`);
    return p;
  }

  app.post<{ Params: { projectId: string }; Body: EndpointInput }>(
    base,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Create an endpoint; its signing secret is shown once',
        security: bearerSecurity,
        params: projectIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            ...endpointFields,
            userId: {
              type: ['string', 'null'],
              minLength: 1,
              maxLength: 256,
              description:
                "the project's own id of the user it belongs to: it then gets only messages published with that userId (and can be managed with that user's token); absent or null: project-wide, every message. Set at creation only",
            },
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
              warnings: {
                type: 'array',
                items: { type: 'string' },
                description:
                  'what stops deliveries now but may be fixed later (a host name that does not resolve yet)',
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const projectId = await scope(request, request.params.projectId);
      const { endpoint, secret, warnings } = await endpoints.create(projectId, request.body);
      reply.code(201);
      return { ...endpointView(endpoint), secret, warnings };
    },
  );

  app.get<{
    Params: { projectId: string };
    Querystring: { limit: number; after?: string; userId?: string };
  }>(
    base,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'List endpoints',
        security: bearerSecurity,
        params: projectIdParams,
        querystring: {
          ...pagedQuery('endpoint'),
          properties: {
            ...pagedQuery('endpoint').properties,
            userId: {
              type: 'string',
              minLength: 1,
              maxLength: 256,
              description: "only this user's endpoints",
            },
          },
        },
        response: {
          200: pageSchema(endpointSchema),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await scope(request, request.params.projectId);
      const { userId, ...paging } = request.query;
      const page = await store.listEndpoints(projectId, paging, userId !== undefined ? { userId } : {});
      return { items: page.items.map(endpointView), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { projectId: string; endpointId: string } }>(
    `${base}/:endpointId`,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Get an endpoint with its health',
        security: bearerSecurity,
        params: endpointParams,
        response: { 200: endpointSchema, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await scope(request, request.params.projectId, request.params.endpointId);
      return endpointView(await endpoints.get(projectId, request.params.endpointId));
    },
  );

  app.patch<{ Params: { projectId: string; endpointId: string }; Body: EndpointPatch }>(
    `${base}/:endpointId`,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Update an endpoint (enabled: true also clears its health)',
        security: bearerSecurity,
        params: endpointParams,
        body: { type: 'object', additionalProperties: false, properties: endpointFields },
        response: { 200: endpointSchema, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await scope(request, request.params.projectId, request.params.endpointId);
      return endpointView(await endpoints.update(projectId, request.params.endpointId, request.body ?? {}));
    },
  );

  app.delete<{ Params: { projectId: string; endpointId: string } }>(
    `${base}/:endpointId`,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Delete an endpoint with its deliveries and attempts',
        security: bearerSecurity,
        params: endpointParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const projectId = await scope(request, request.params.projectId, request.params.endpointId);
      await endpoints.remove(projectId, request.params.endpointId);
      reply.code(204);
    },
  );

  app.post<{
    Params: { projectId: string; endpointId: string };
    Body: { secret?: string; graceMs?: number };
  }>(
    `${base}/:endpointId/secret/rotate`,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Rotate the signing secret; the old one keeps signing for the grace period',
        security: bearerSecurity,
        params: endpointParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            secret: { type: 'string', description: 'the new secret (whsec_…); generated when absent' },
            graceMs: {
              type: 'integer',
              minimum: 0,
              maximum: MAX_ROTATION_GRACE_MS,
              description: 'how long the previous secret keeps signing; default 86400000 (24 h)',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['secret', 'previousSecretsExpireAt'],
            properties: {
              secret: { type: 'string', description: 'the new current secret; shown once' },
              previousSecretsExpireAt: { type: 'array', items: { type: 'string', format: 'date-time' } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const projectId = await scope(request, request.params.projectId, request.params.endpointId);
      const body = request.body ?? {};
      const rotated = await endpoints.rotateSecret(projectId, request.params.endpointId, {
        ...(body.secret !== undefined ? { secret: body.secret } : {}),
        ...(body.graceMs !== undefined ? { graceMs: body.graceMs } : {}),
      });
      return {
        secret: rotated.secret,
        previousSecretsExpireAt: rotated.previousSecretsNotAfterMs.map((ms) => new Date(ms).toISOString()),
      };
    },
  );

  app.post<{ Params: { projectId: string; endpointId: string } }>(
    `${base}/:endpointId/enable`,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Enable the endpoint and reset its health to active',
        security: bearerSecurity,
        params: endpointParams,
        response: { 200: endpointSchema, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await scope(request, request.params.projectId, request.params.endpointId);
      return endpointView(await endpoints.enable(projectId, request.params.endpointId));
    },
  );

  app.post<{ Params: { projectId: string; endpointId: string }; Body: { since: string } }>(
    `${base}/:endpointId/recover`,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Re-queue every failed delivery to this endpoint since a time',
        security: bearerSecurity,
        params: endpointParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['since'],
          properties: { since: { type: 'string', format: 'date-time' } },
        },
        response: {
          202: {
            type: 'object',
            required: ['queued'],
            properties: { queued: { type: 'integer', description: 'deliveries re-queued' } },
          },
          ...errorResponses,
          409: errorResponses[400],
        },
      },
    },
    async (request, reply) => {
      const projectId = await scope(request, request.params.projectId, request.params.endpointId);
      const sinceMs = Date.parse(request.body.since);
      if (Number.isNaN(sinceMs)) {
        throw new HookyardError('validation_failed', 'body/since must be an RFC 3339 date-time.');
      }
      const queued = await endpoints.recover(projectId, request.params.endpointId, sinceMs);
      reply.code(202);
      return { queued };
    },
  );

  app.get<{ Params: { projectId: string } }>(
    '/api/v1/projects/:projectId/delivery-settings',
    {
      schema: {
        tags: ['endpoints'],
        summary: "Get the project's delivery settings (retry schedule, egress allow list)",
        security: bearerSecurity,
        params: projectIdParams,
        response: { 200: settingsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await scope(request, request.params.projectId);
      return settingsView(await store.getDeliverySettings(projectId));
    },
  );

  const settingsBody = {
    type: 'object',
    additionalProperties: false,
    properties: {
      retryScheduleMs: {
        type: ['array', 'null'],
        maxItems: MAX_RETRIES,
        items: { type: 'integer', minimum: 0, maximum: MAX_RETRY_DELAY_MS },
        description: 'wait before each retry, in ms; null = the default schedule',
      },
      egressAllow: {
        type: ['array', 'null'],
        maxItems: 64,
        items: { type: 'string', maxLength: 64 },
        description:
          "CIDRs inside the operator's egress allow list (HOOKYARD_EGRESS_ALLOW) this project's deliveries may reach; null = the operator's whole list",
      },
    },
  } as const;

  for (const mode of ['replace', 'merge'] as const) {
    const route = {
      method: mode === 'replace' ? 'PUT' : 'PATCH',
      url: '/api/v1/projects/:projectId/delivery-settings',
      schema: {
        tags: ['endpoints'],
        summary:
          mode === 'replace'
            ? "Replace the project's delivery settings: a field left out goes back to its default"
            : "Change some of the project's delivery settings: a field left out keeps its value",
        security: bearerSecurity,
        params: projectIdParams,
        body: settingsBody,
        response: { 200: settingsSchema, ...errorResponses },
      },
    } as const;
    app.route<{ Params: { projectId: string }; Body: DeliverySettingsInput }>({
      ...route,
      handler: async (request) => {
        const projectId = await scope(request, request.params.projectId);
        return settingsView(await endpoints.setDeliverySettings(projectId, request.body ?? {}, mode));
      },
    });
  }
}
