import type { FastifyInstance } from 'fastify';
import { HookyardError, notFound } from '../domain/errors.ts';
import { type CredentialId, isId } from '../domain/ids.ts';
import type { CredentialRefresher } from '../integrations/credential-refresher.ts';
import type { CredentialInput, CredentialService } from '../integrations/credential-service.ts';
import { MAX_ALLOWED_REDIRECT_ORIGINS, type OAuthConnect } from '../integrations/oauth-connect.ts';
import type { Store } from '../store/store.ts';
import { authorizeProject } from './auth.ts';
import {
  bearerSecurity,
  errorResponses,
  errorSchema,
  pagedQuery,
  pageSchema,
  projectIdParams,
} from './schemas.ts';

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const credentialSchema = {
  type: 'object',
  description: 'A credential. Its tokens, key or password are sealed at rest and never returned.',
  required: [
    'id',
    'integration',
    'userId',
    'providerAccountId',
    'authType',
    'status',
    'statusReason',
    'hasRefreshToken',
    'accessTokenExpiresAt',
    'settings',
    'createdAt',
    'updatedAt',
    'lastRefreshedAt',
  ],
  properties: {
    id: { type: 'string', description: 'cred_… id' },
    integration: { type: 'string' },
    userId: { type: 'string' },
    providerAccountId: { type: ['string', 'null'] },
    authType: { type: 'string', enum: ['oauth2', 'apiKey', 'basic', 'none'] },
    status: {
      type: 'string',
      enum: ['active', 'needs_reauth'],
      description: 'needs_reauth: the provider refused a token refresh; the user must connect again',
    },
    statusReason: { type: ['string', 'null'] },
    hasRefreshToken: { type: 'boolean' },
    accessTokenExpiresAt: nullableTime,
    settings: {
      type: 'object',
      additionalProperties: true,
      description: 'the credential settings the user gave (those the definition marks secret left out)',
    },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    lastRefreshedAt: nullableTime,
  },
} as const;

const tokenText = { type: 'string', minLength: 1, maxLength: 8192 } as const;

const credentialBody = {
  type: 'object',
  additionalProperties: false,
  required: ['integration', 'userId'],
  properties: {
    integration: { type: 'string', minLength: 1, maxLength: 63, description: 'the integration’s key' },
    userId: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description: 'the project’s own id for the user',
    },
    providerAccountId: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description: 'the account at the provider; looked up when the definition says how and it is left out',
    },
    auth: {
      description:
        'as the integration’s auth type takes it: oauth2 { accessToken, refreshToken?, expiresAt? }, apiKey { apiKey }, basic { username, password }; none: leave out',
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['accessToken'],
          properties: {
            accessToken: tokenText,
            refreshToken: tokenText,
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['apiKey'],
          properties: { apiKey: tokenText },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password'],
          properties: { username: tokenText, password: tokenText },
        },
      ],
    },
    settings: {
      type: 'object',
      additionalProperties: true,
      description: 'the definition’s credentialSettings',
    },
  },
} as const;

const credentialParams = {
  type: 'object',
  required: ['projectId', 'credentialId'],
  properties: { projectId: { type: 'string' }, credentialId: { type: 'string', description: 'cred_… id' } },
} as const;

const connectSettingsSchema = {
  type: 'object',
  required: ['allowedRedirectOrigins', 'updatedAt'],
  properties: {
    allowedRedirectOrigins: {
      type: 'array',
      items: { type: 'string' },
      description: 'origins the connect flow may send a browser back to (`redirect`)',
    },
    updatedAt: nullableTime,
  },
} as const;

type CredentialParams = { projectId: string; credentialId: string };

export function registerCredentialRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    credentials: CredentialService;
    refresher: CredentialRefresher;
    connect: OAuthConnect;
  },
): void {
  const { store, credentials, refresher, connect } = deps;
  const tags = ['credentials'];
  const base = '/api/v1/projects/:projectId/credentials';

  async function scope(
    request: Parameters<typeof authorizeProject>[0],
    projectId: string,
    credentialId: string,
  ) {
    const p = await authorizeProject(request, store, projectId);
    if (!isId('credential', credentialId)) throw notFound(`credential ${credentialId}`);
    return { projectId: p, credentialId: credentialId as CredentialId };
  }

  app.post<{ Params: { projectId: string }; Body: CredentialInput }>(
    base,
    {
      schema: {
        tags,
        summary:
          'Store a user’s connection to an integration (tokens from the project’s own OAuth, a key, a password)',
        security: bearerSecurity,
        params: projectIdParams,
        body: credentialBody,
        response: { 201: credentialSchema, ...errorResponses, 409: errorSchema, 502: errorSchema },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const created = await credentials.create(projectId, request.body);
      reply.code(201);
      return created;
    },
  );

  app.get<{
    Params: { projectId: string };
    Querystring: { limit: number; after?: string; userId?: string; integration?: string };
  }>(
    base,
    {
      schema: {
        tags,
        summary: 'List credentials, by user and integration',
        security: bearerSecurity,
        params: projectIdParams,
        querystring: {
          ...pagedQuery('credential'),
          properties: {
            ...pagedQuery('credential').properties,
            userId: { type: 'string', minLength: 1, maxLength: 256 },
            integration: { type: 'string', minLength: 1, maxLength: 63 },
          },
        },
        response: { 200: pageSchema(credentialSchema), ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { limit, after, userId, integration } = request.query;
      return credentials.list(projectId, {
        limit,
        ...(after !== undefined ? { after } : {}),
        ...(userId !== undefined ? { userId } : {}),
        ...(integration !== undefined ? { integration } : {}),
      });
    },
  );

  app.get<{ Params: CredentialParams }>(
    `${base}/:credentialId`,
    {
      schema: {
        tags,
        summary: 'Get a credential (never its tokens)',
        security: bearerSecurity,
        params: credentialParams,
        response: { 200: credentialSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { projectId, credentialId } = await scope(
        request,
        request.params.projectId,
        request.params.credentialId,
      );
      return credentials.get(projectId, credentialId);
    },
  );

  app.post<{ Params: CredentialParams }>(
    `${base}/:credentialId/refresh`,
    {
      schema: {
        tags,
        summary:
          'Refresh the access token now (OAuth credentials); a refusal marks the credential needs_reauth',
        security: bearerSecurity,
        params: credentialParams,
        response: { 200: credentialSchema, ...errorResponses, 409: errorSchema, 502: errorSchema },
      },
    },
    async (request) => {
      const { projectId, credentialId } = await scope(
        request,
        request.params.projectId,
        request.params.credentialId,
      );
      const record = await store.getCredential(projectId, credentialId);
      if (!record) throw notFound(`credential ${credentialId}`);
      if (record.authType !== 'oauth2') {
        throw new HookyardError(
          'validation_failed',
          `credential ${credentialId} uses ${record.authType} auth; only OAuth credentials are refreshed`,
        );
      }
      const fresh = await refresher.getFreshCredential(credentialId, { force: true });
      return credentials.view(fresh.record);
    },
  );

  app.delete<{ Params: CredentialParams }>(
    `${base}/:credentialId`,
    {
      schema: {
        tags,
        summary: 'Delete a credential: what hangs off it is torn down first (failures are warnings)',
        security: bearerSecurity,
        params: credentialParams,
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
      const { projectId, credentialId } = await scope(
        request,
        request.params.projectId,
        request.params.credentialId,
      );
      const { warnings } = await credentials.remove(projectId, credentialId);
      return { id: credentialId, deleted: true, warnings };
    },
  );

  app.get<{ Params: { projectId: string } }>(
    '/api/v1/projects/:projectId/connect-settings',
    {
      schema: {
        tags,
        summary: 'Where the connect flow may send browsers back to',
        security: bearerSecurity,
        params: projectIdParams,
        response: { 200: connectSettingsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const s = await store.getConnectSettings(projectId);
      return {
        allowedRedirectOrigins: s?.allowedRedirectOrigins ?? [],
        updatedAt: s ? new Date(s.updatedAtMs).toISOString() : null,
      };
    },
  );

  app.put<{ Params: { projectId: string }; Body: { allowedRedirectOrigins: string[] } }>(
    '/api/v1/projects/:projectId/connect-settings',
    {
      schema: {
        tags,
        summary: 'Set the origins the connect flow may send browsers back to',
        security: bearerSecurity,
        params: projectIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['allowedRedirectOrigins'],
          properties: {
            allowedRedirectOrigins: {
              type: 'array',
              maxItems: MAX_ALLOWED_REDIRECT_ORIGINS,
              items: { type: 'string', maxLength: 256 },
              description: 'origins such as https://app.example (scheme, host and port; no path)',
            },
          },
        },
        response: { 200: connectSettingsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const s = await connect.putSettings(projectId, request.body);
      return {
        allowedRedirectOrigins: s.allowedRedirectOrigins,
        updatedAt: new Date(s.updatedAtMs).toISOString(),
      };
    },
  );
}
