import type { SdkModule } from '../component.ts';

export type { SdkModule } from '../component.ts';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HookyardError } from '../domain/errors.ts';
import type { ProjectId } from '../domain/ids.ts';
import { type UserTokens, userTokenInvalid } from '../users/user-tokens.ts';

/**
 * The SDK routes (`/projects/{projectId}/sdk/…`) act for one end user of a project: the user token
 * names them, and every such route sees only what belongs to that user.
 */
export interface SdkUser {
  projectId: ProjectId;
  userId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    sdkUser: SdkUser | null;
  }
  interface FastifyContextConfig {
    /**
     * The route is opened by a browser redirect, which cannot send headers: the user token may
     * come as `?token=` too. Only such routes read it there (query strings end up in logs and
     * browser history).
     */
    sdkTokenInQuery?: boolean;
  }
}

/** The prefix every SDK route's path starts with; `:projectId` is the project the token must be valid for. */
export const SDK_PREFIX = '/projects/:projectId/sdk';

/** OpenAPI security of SDK routes. */
export const userTokenSecurity = [{ userToken: [] }];

export const userTokenSecurityScheme = {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description:
    'A user token: a JWT with sub (the user id) and exp, signed with a key registered on the project or minted by POST /api/v1/projects/{projectId}/user-tokens',
} as const;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** An onRequest hook: verifies the user token and puts `{ projectId, userId }` on the request. */
export function createSdkAuthenticate(deps: { userTokens: UserTokens }) {
  return async function authenticateUser(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const projectId = (request.params as { projectId?: unknown } | undefined)?.projectId;
    if (typeof projectId !== 'string') {
      throw new HookyardError('internal', `SDK route ${request.routeOptions.url} lacks :projectId.`);
    }
    const header = request.headers.authorization;
    let token: string | undefined;
    if (typeof header === 'string') {
      const match = BEARER.exec(header);
      if (!match?.[1]) throw userTokenInvalid('must be sent as "Authorization: Bearer <token>".');
      token = match[1];
    } else if (request.routeOptions.config.sdkTokenInQuery) {
      const fromQuery = (request.query as { token?: unknown } | undefined)?.token;
      if (typeof fromQuery === 'string') token = fromQuery;
    }
    if (token === undefined) {
      throw userTokenInvalid(
        request.routeOptions.config.sdkTokenInQuery
          ? 'is missing: send "Authorization: Bearer <token>" or ?token=<token>.'
          : 'is missing: send "Authorization: Bearer <token>".',
      );
    }
    const subject = await deps.userTokens.verify(projectId, token);
    request.sdkUser = { projectId: subject.projectId, userId: subject.userId };
  };
}

/** The user an SDK route acts for (set by the scope's hook). */
export function sdkUserOf(request: FastifyRequest): SdkUser {
  const user = request.sdkUser;
  if (!user) throw userTokenInvalid('is missing.');
  return user;
}

/** Registers the SDK modules in a scope of their own whose every route needs a user token. */
export async function registerSdkRoutes(
  app: FastifyInstance,
  deps: { userTokens: UserTokens; modules: readonly SdkModule[] },
): Promise<void> {
  const authenticateUser = createSdkAuthenticate({ userTokens: deps.userTokens });
  await app.register(async (sdk) => {
    sdk.addHook('onRequest', authenticateUser);
    for (const module of deps.modules) module(sdk);
  });
}
