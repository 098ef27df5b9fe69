import type { FastifyInstance } from 'fastify';
import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { newId, type UserTokenKeyId } from '../domain/ids.ts';
import type { Store } from '../store/store.ts';
import { USER_TOKEN_ALGORITHMS, type UserTokenKeyRecord } from '../store/user-store.ts';
import { parseUserTokenPublicKey } from '../users/user-token-key-parser.ts';
import {
  DEFAULT_MINTED_TOKEN_SECONDS,
  MAX_MINTED_TOKEN_SECONDS,
  MAX_USER_ID_CHARS,
  type UserTokens,
} from '../users/user-tokens.ts';
import { authorizeProject } from './auth.ts';
import { bearerSecurity, errorResponses, listSchema, projectIdParams } from './schemas.ts';

/** Registered keys per project: enough to rotate (old and new side by side) with room to spare. */
export const MAX_USER_TOKEN_KEYS = 20;

const keySchema = {
  type: 'object',
  required: ['id', 'name', 'algorithm', 'publicKey', 'createdAt'],
  properties: {
    id: { type: 'string', description: 'utk_… id; a token may name it in its kid header' },
    name: { type: 'string' },
    algorithm: { type: 'string', enum: [...USER_TOKEN_ALGORITHMS] },
    publicKey: { type: 'object', additionalProperties: true, description: 'the public key as a JWK' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const keyView = (k: UserTokenKeyRecord) => ({
  id: k.id,
  name: k.name,
  algorithm: k.algorithm,
  publicKey: k.publicJwk,
  createdAt: new Date(k.createdAtMs).toISOString(),
});

/** Management routes (project key) for the keys user tokens are signed with, and minting tokens. */
export function registerUserTokenRoutes(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock; userTokens: UserTokens },
): void {
  const { store, clock, userTokens } = deps;

  app.post<{
    Params: { projectId: string };
    Body: { publicKey: unknown; algorithm?: string; name?: string };
  }>(
    '/api/v1/projects/:projectId/user-token-keys',
    {
      schema: {
        tags: ['users'],
        summary: "Register a public key the project's backend signs user tokens with",
        security: bearerSecurity,
        params: projectIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['publicKey'],
          properties: {
            publicKey: {
              type: ['string', 'object'],
              description:
                'a PEM public key ("-----BEGIN PUBLIC KEY-----") or a public JWK: RSA of 2048 to 8192 bits (RS256), EC P-256 (ES256) or Ed25519 (EdDSA)',
            },
            algorithm: {
              type: 'string',
              enum: [...USER_TOKEN_ALGORITHMS],
              description: 'optional; must match the key (it is read from the key)',
            },
            name: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
        response: { 201: keySchema, 409: errorResponses[400], ...errorResponses },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { algorithm, publicJwk } = parseUserTokenPublicKey(
        request.body.publicKey,
        request.body.algorithm,
      );
      if ((await store.listUserTokenKeys(projectId)).length >= MAX_USER_TOKEN_KEYS) {
        throw new HookyardError(
          'conflict',
          `project ${projectId} has ${MAX_USER_TOKEN_KEYS} user token keys, the most it may have; delete one first.`,
        );
      }
      const record: UserTokenKeyRecord = {
        id: newId('userTokenKey', clock.nowMs()),
        projectId,
        name: request.body.name ?? `${algorithm} key`,
        algorithm,
        publicJwk,
        createdAtMs: clock.nowMs(),
      };
      await store.insertUserTokenKey(record);
      reply.code(201);
      return keyView(record);
    },
  );

  app.get<{ Params: { projectId: string } }>(
    '/api/v1/projects/:projectId/user-token-keys',
    {
      schema: {
        tags: ['users'],
        summary: 'List the registered user token keys',
        security: bearerSecurity,
        params: projectIdParams,
        response: { 200: listSchema(keySchema), ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return { items: (await store.listUserTokenKeys(projectId)).map(keyView) };
    },
  );

  app.delete<{ Params: { projectId: string; keyId: string } }>(
    '/api/v1/projects/:projectId/user-token-keys/:keyId',
    {
      schema: {
        tags: ['users'],
        summary: 'Delete a user token key; tokens signed with it stop verifying at once',
        security: bearerSecurity,
        params: {
          type: 'object',
          required: ['projectId', 'keyId'],
          properties: { projectId: { type: 'string' }, keyId: { type: 'string', description: 'utk_… id' } },
        },
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const ok = await store.deleteUserTokenKey(projectId, request.params.keyId as UserTokenKeyId);
      if (!ok) throw notFound(`user token key ${request.params.keyId}`);
      reply.code(204);
    },
  );

  app.post<{ Params: { projectId: string }; Body: { userId: string; expiresInSeconds?: number } }>(
    '/api/v1/projects/:projectId/user-tokens',
    {
      schema: {
        tags: ['users'],
        summary: "Mint a user token signed with the project's own key",
        security: bearerSecurity,
        params: projectIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['userId'],
          properties: {
            userId: {
              type: 'string',
              minLength: 1,
              maxLength: MAX_USER_ID_CHARS,
              description: "the project's own id for the user (the token's sub)",
            },
            expiresInSeconds: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_MINTED_TOKEN_SECONDS,
              default: DEFAULT_MINTED_TOKEN_SECONDS,
              description: `lifetime, 1 to ${MAX_MINTED_TOKEN_SECONDS} seconds (default ${DEFAULT_MINTED_TOKEN_SECONDS})`,
            },
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['token', 'userId', 'expiresAt'],
            properties: {
              token: { type: 'string', description: 'a JWT (EdDSA) for the SDK routes' },
              userId: { type: 'string' },
              expiresAt: { type: 'string', format: 'date-time' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { userId, expiresInSeconds = DEFAULT_MINTED_TOKEN_SECONDS } = request.body;
      const minted = await userTokens.mint(projectId, userId, expiresInSeconds);
      reply.code(201);
      return { token: minted.token, userId, expiresAt: new Date(minted.expiresAtMs).toISOString() };
    },
  );
}
