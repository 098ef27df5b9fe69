import type { FastifyInstance } from 'fastify';
import { notFound } from '../domain/errors.ts';
import { type CredentialId, isId, type TriggerSubscriptionId } from '../domain/ids.ts';
import type { TriggerSubscriptionService } from '../integrations/trigger-subscription-service.ts';
import type { Store } from '../store/store.ts';
import type {
  TriggerSubscriptionRecord,
  TriggerSubscriptionStatus,
} from '../store/trigger-subscription-store.ts';
import { authorizeProject } from './auth.ts';
import { bearerSecurity, errorResponses, pagedQuery, pageSchema, projectIdParams } from './schemas.ts';

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
const STATUSES = ['ACTIVE', 'ERRORED', 'PENDING'] as const;

export const triggerSubscriptionSchema = {
  type: 'object',
  description:
    'A subscription of one user, through one credential, to one trigger. Its secret at the provider is sealed at rest and never returned.',
  required: [
    'id',
    'integration',
    'type',
    'parameters',
    'status',
    'credentialId',
    'userId',
    'webhookUrl',
    'expiresAt',
    'dateCreated',
    'dateLastReceivedEvent',
  ],
  properties: {
    id: { type: 'string', description: 'sub_… id' },
    integration: { type: 'string' },
    type: { type: 'string', description: 'the trigger’s type' },
    parameters: { type: 'object', additionalProperties: true },
    status: {
      type: 'string',
      enum: STATUSES,
      description:
        'PENDING: subscribing; ACTIVE: the provider accepted it; ERRORED: the provider refused a subscribe or renew, or the credential needs re-auth (see error)',
    },
    error: { type: 'string' },
    credentialId: { type: 'string' },
    userId: { type: 'string' },
    webhookUrl: { type: 'string', description: 'where the provider was told to send events' },
    providerSubscriptionId: { type: ['string', 'null'] },
    expiresAt: { ...nullableTime, description: 'when the provider lets it lapse unless renewed' },
    dateCreated: { type: 'string', format: 'date-time' },
    dateLastReceivedEvent: nullableTime,
  },
} as const;

const subscriptionBody = {
  type: 'object',
  additionalProperties: false,
  required: ['integration', 'type', 'credentialId'],
  properties: {
    integration: { type: 'string', minLength: 1, maxLength: 63, description: 'the integration’s key' },
    type: { type: 'string', minLength: 1, maxLength: 128, description: 'the trigger’s type' },
    parameters: { type: 'object', additionalProperties: true, description: 'the trigger’s parameters' },
    credentialId: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'cred_… id of the user’s credential',
    },
  },
} as const;

const subscriptionParams = {
  type: 'object',
  required: ['projectId', 'subscriptionId'],
  properties: { projectId: { type: 'string' }, subscriptionId: { type: 'string', description: 'sub_… id' } },
} as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function viewTriggerSubscription(s: TriggerSubscriptionRecord, webhookUrl: string) {
  return {
    id: s.id,
    integration: s.integration,
    type: s.triggerType,
    parameters: s.parameters,
    status: s.status,
    ...(s.error !== null ? { error: s.error } : {}),
    credentialId: s.credentialId,
    userId: s.userId,
    webhookUrl,
    providerSubscriptionId: s.providerSubscriptionId,
    expiresAt: iso(s.expiresAtMs),
    dateCreated: new Date(s.createdAtMs).toISOString(),
    dateLastReceivedEvent: iso(s.lastReceivedEventAtMs),
  };
}

type Params = { projectId: string; subscriptionId: string };

/**
 * Trigger subscriptions on the management API. A provider that refuses the subscribe request does
 * not fail the POST: the subscription is stored and answered 201 with status ERRORED and the
 * provider's reason, so the caller can see it, fix the cause and delete it.
 */
export function registerTriggerSubscriptionRoutes(
  app: FastifyInstance,
  deps: { store: Store; subscriptions: TriggerSubscriptionService },
): void {
  const { store, subscriptions } = deps;
  const tags = ['trigger subscriptions'];
  const base = '/api/v1/projects/:projectId/trigger-subscriptions';
  const view = (s: TriggerSubscriptionRecord) => viewTriggerSubscription(s, subscriptions.webhookUrl(s.id));

  async function scope(request: Parameters<typeof authorizeProject>[0], params: Params) {
    const projectId = await authorizeProject(request, store, params.projectId);
    if (!isId('triggerSubscription', params.subscriptionId)) {
      throw notFound(`trigger subscription ${params.subscriptionId}`);
    }
    return { projectId, id: params.subscriptionId as TriggerSubscriptionId };
  }

  app.post<{
    Params: { projectId: string };
    Body: { integration: string; type: string; parameters?: Record<string, unknown>; credentialId: string };
  }>(
    base,
    {
      schema: {
        tags,
        summary:
          'Subscribe a user’s credential to a trigger (performs the provider’s subscribe request; a refusal answers 201 with status ERRORED)',
        security: bearerSecurity,
        params: projectIdParams,
        body: subscriptionBody,
        response: { 201: triggerSubscriptionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { integration, type, parameters, credentialId } = request.body;
      if (!isId('credential', credentialId)) throw notFound(`credential ${credentialId}`);
      const created = await subscriptions.create(projectId, {
        integration,
        type,
        parameters,
        credentialId: credentialId as CredentialId,
      });
      reply.code(201);
      return view(created);
    },
  );

  app.get<{
    Params: { projectId: string };
    Querystring: {
      limit: number;
      after?: string;
      integration?: string;
      type?: string;
      status?: TriggerSubscriptionStatus;
      userId?: string;
      credentialId?: string;
    };
  }>(
    base,
    {
      schema: {
        tags,
        summary: 'List trigger subscriptions, by integration, type, status, user and credential',
        security: bearerSecurity,
        params: projectIdParams,
        querystring: {
          ...pagedQuery('triggerSubscription'),
          properties: {
            ...pagedQuery('triggerSubscription').properties,
            integration: { type: 'string', minLength: 1, maxLength: 63 },
            type: { type: 'string', minLength: 1, maxLength: 128 },
            status: { type: 'string', enum: STATUSES },
            userId: { type: 'string', minLength: 1, maxLength: 256 },
            credentialId: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
        response: { 200: pageSchema(triggerSubscriptionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { limit, after, integration, type, status, userId, credentialId } = request.query;
      const page = await subscriptions.list(projectId, {
        limit,
        ...(after !== undefined ? { after } : {}),
        ...(integration !== undefined ? { integration } : {}),
        ...(type !== undefined ? { triggerType: type } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(userId !== undefined ? { userId } : {}),
        ...(credentialId !== undefined ? { credentialId: credentialId as CredentialId } : {}),
      });
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: Params }>(
    `${base}/:subscriptionId`,
    {
      schema: {
        tags,
        summary: 'Get a trigger subscription',
        security: bearerSecurity,
        params: subscriptionParams,
        response: { 200: triggerSubscriptionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { projectId, id } = await scope(request, request.params);
      return view(await subscriptions.get(projectId, id));
    },
  );

  app.delete<{ Params: Params }>(
    `${base}/:subscriptionId`,
    {
      schema: {
        tags,
        summary:
          'Delete a trigger subscription: performs the provider’s unsubscribe request first (a failure there is a warning)',
        security: bearerSecurity,
        params: subscriptionParams,
        response: {
          200: {
            type: 'object',
            required: ['id', 'deleted', 'warnings'],
            properties: {
              id: { type: 'string' },
              deleted: { type: 'boolean' },
              warnings: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { projectId, id } = await scope(request, request.params);
      const { warnings } = await subscriptions.delete(projectId, id);
      return { id, deleted: true, warnings };
    },
  );
}
