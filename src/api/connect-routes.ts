import type { FastifyInstance } from 'fastify';
import { notFound } from '../domain/errors.ts';
import { type CredentialId, isId } from '../domain/ids.ts';
import type { CredentialService } from '../integrations/credential-service.ts';
import type { OAuthConnect } from '../integrations/oauth-connect.ts';
import type { Store } from '../store/store.ts';
import { credentialSchema } from './credential-routes.ts';
import { errorResponses, errorSchema, pagedQuery, pageSchema } from './schemas.ts';
import { SDK_PREFIX, sdkUserOf, userTokenSecurity } from './sdk-auth.ts';

const SETTING_PREFIX = 'settings.';

/**
 * The SDK side of credentials: a user connects an account (OAuth, through the browser), lists
 * their own credentials and deletes them. A user token sees only its user's credentials.
 */
export function registerConnectRoutes(
  sdk: FastifyInstance,
  deps: { store: Store; credentials: CredentialService; connect: OAuthConnect },
): void {
  const { store, credentials, connect } = deps;
  const tags = ['sdk'];

  sdk.get<{
    Params: { projectId: string; integration: string };
    Querystring: Record<string, string>;
  }>(
    `${SDK_PREFIX}/connect/:integration`,
    {
      config: { sdkTokenInQuery: true },
      schema: {
        tags,
        summary: 'Connect the user’s account: redirects the browser to the provider’s consent page',
        description:
          'Opened in the browser (the user token may come as ?token=). After the provider, the browser returns to `redirect` with `credentialId` and `integration`, or `error` and `error_description`. `settings.<key>` query parameters give credential settings the provider’s URLs need (a shop host).',
        security: userTokenSecurity,
        params: {
          type: 'object',
          required: ['projectId', 'integration'],
          properties: { projectId: { type: 'string' }, integration: { type: 'string', maxLength: 63 } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['redirect'],
          properties: {
            token: {
              type: 'string',
              description: 'the user token, where no Authorization header can be sent',
            },
            redirect: {
              type: 'string',
              maxLength: 2048,
              description:
                'where the browser goes back to; its origin must be in the project’s connect settings',
            },
          },
          patternProperties: { '^settings\\.[A-Za-z0-9_]{1,64}$': { type: 'string', maxLength: 4096 } },
        },
        response: {
          302: { type: 'null', description: 'to the provider' },
          ...errorResponses,
          409: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const user = sdkUserOf(request);
      const settings: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(request.query)) {
        if (k.startsWith(SETTING_PREFIX)) settings[k.slice(SETTING_PREFIX.length)] = v;
      }
      const location = await connect.start({
        projectId: user.projectId,
        userId: user.userId,
        integration: request.params.integration,
        redirect: request.query.redirect,
        settings,
      });
      reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      return reply.redirect(location, 302);
    },
  );

  sdk.get<{
    Params: { projectId: string };
    Querystring: { limit: number; after?: string; integration?: string };
  }>(
    `${SDK_PREFIX}/credentials`,
    {
      schema: {
        tags,
        summary: 'List the user’s own credentials',
        security: userTokenSecurity,
        params: { type: 'object', required: ['projectId'], properties: { projectId: { type: 'string' } } },
        querystring: {
          ...pagedQuery('credential'),
          properties: {
            ...pagedQuery('credential').properties,
            integration: { type: 'string', minLength: 1, maxLength: 63 },
          },
        },
        response: { 200: pageSchema(credentialSchema), ...errorResponses },
      },
    },
    async (request) => {
      const user = sdkUserOf(request);
      const { limit, after, integration } = request.query;
      return credentials.list(user.projectId, {
        userId: user.userId,
        limit,
        ...(after !== undefined ? { after } : {}),
        ...(integration !== undefined ? { integration } : {}),
      });
    },
  );

  sdk.delete<{ Params: { projectId: string; credentialId: string } }>(
    `${SDK_PREFIX}/credentials/:credentialId`,
    {
      schema: {
        tags,
        summary: 'Disconnect one of the user’s own credentials',
        security: userTokenSecurity,
        params: {
          type: 'object',
          required: ['projectId', 'credentialId'],
          properties: { projectId: { type: 'string' }, credentialId: { type: 'string' } },
        },
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
      const user = sdkUserOf(request);
      const id = request.params.credentialId;
      // Another user's credential does not exist for this token.
      const record = isId('credential', id)
        ? await store.getCredential(user.projectId, id as CredentialId)
        : null;
      if (!record || record.userId !== user.userId) throw notFound(`credential ${id}`);
      const { warnings } = await credentials.remove(user.projectId, record.id);
      return { id: record.id, deleted: true, warnings };
    },
  );
}
