import { createServer, type Server } from 'node:http';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { createAuthenticate } from './api/auth.ts';
import { installErrorHandlers } from './api/error-handler.ts';
import { registerHealthRoutes } from './api/health-routes.ts';
import { registerProjectRoutes } from './api/project-routes.ts';
import { createValidatorCompiler } from './api/request-validation.ts';
import { registerSdkRoutes, userTokenSecurityScheme } from './api/sdk-auth.ts';
import type { ApiModule, SdkModule } from './component.ts';
import type { Config } from './config.ts';
import type { Clock } from './domain/clock.ts';
import { NodeExchange, type RawRoute } from './http/exchange.ts';
import { type FastHttp, installFastHttp } from './http/fast-http.ts';
import type { ProjectService } from './projects/project-service.ts';
import type { SecretBox } from './security/secret-box.ts';
import type { Store } from './store/store.ts';
import type { UserTokens } from './users/user-tokens.ts';

export type { SdkModule } from './component.ts';
export type { RawRoute } from './http/exchange.ts';

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface AppDeps {
  config: Pick<Config, 'apiBodyLimitBytes' | 'publicBaseUrl'> & Partial<Pick<Config, 'fastHttp'>>;
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  logger: Logger;
  projects: ProjectService;
  adminKeyHash: () => Promise<string | null>;
  isShuttingDown?: () => boolean;
  /** Raw routes tried before Fastify, on the real socket (not through inject). */
  rawRoutes?: RawRoute[];
  apiModules?: ApiModule[];
  /** Verifies user tokens for the SDK routes (`/projects/{projectId}/sdk/…`). */
  userTokens?: UserTokens;
  /** Registers SDK routes, inside the scope that authenticates user tokens (needs userTokens). */
  sdkModules?: SdkModule[];
  /** False on processes whose roles exclude `api`: only health routes and raw routes are served. */
  managementApi?: boolean;
}

export const API_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'Hookyard management API',
    version: '1',
    description:
      'Projects, API keys, sources, inbound events, endpoints and messages. Errors are { code, detail }.',
  },
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key or operator key' },
      userToken: userTokenSecurityScheme,
    },
  },
} as const;

/** Builds the server from its dependencies, without listening. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const rawRoutes = deps.rawRoutes ?? [];
  let fast: FastHttp | undefined;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.apiBodyLimitBytes,
    // Graceful shutdown closes idle keep-alive sockets at once and lets in-flight requests finish.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: (handler) => {
      const server = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, (req, res) => {
        // While draining, answer and close, so keep-alive clients move to another instance and
        // server.close() can finish (Fastify does the same for its own routes).
        if (deps.isShuttingDown?.()) res.shouldKeepAlive = false;
        const url = req.url ?? '/';
        for (const route of rawRoutes) {
          if (route.owns(url)) {
            route.handle(new NodeExchange(req, res));
            return;
          }
        }
        handler(req, res);
      });
      if (rawRoutes.length > 0 && deps.config.fastHttp !== false) {
        fast = installFastHttp(server, {
          routes: rawRoutes,
          keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
          ...(deps.isShuttingDown ? { isShuttingDown: deps.isShuttingDown } : {}),
        });
      }
      return server as Server;
    },
  });
  // Before the listener closes: connections of the fast path that wait for a request close now,
  // the others after their answer (node:http's own idle connections Fastify closes itself).
  app.addHook('preClose', (done) => {
    fast?.closeIdle();
    done();
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('sdkUser', null);
  // Unknown fields are an error that names them, never silently dropped; body types are not coerced.
  app.setValidatorCompiler(createValidatorCompiler());
  acceptEmptyJsonBodies(app);
  installErrorHandlers(app, { apiBodyLimitBytes: deps.config.apiBodyLimitBytes });
  await app.register(swagger, { openapi: API_INFO });

  registerHealthRoutes(app, { store: deps.store, isShuttingDown: deps.isShuttingDown ?? (() => false) });
  if (deps.managementApi === false) return app;
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const authenticate = createAuthenticate({ store: deps.store, adminKeyHash: deps.adminKeyHash });
  await app.register(async (api) => {
    api.addHook('onRequest', authenticate);
    registerProjectRoutes(api, { store: deps.store, projects: deps.projects, clock: deps.clock });
    for (const module of deps.apiModules ?? []) module(api);
  });
  if (deps.userTokens)
    await registerSdkRoutes(app, { userTokens: deps.userTokens, modules: deps.sdkModules ?? [] });
  return app;
}

/**
 * Many clients send `content-type: application/json` with no body on action routes (enable,
 * recover, resend, secret/rotate): that is an empty request, read as `{}`. A body-less request
 * without a content type is read the same way, so a route's schema decides what is required.
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') {
      done(null, {});
      return;
    }
    parseJson(request, body as string, done);
  });
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined) request.body = {};
  });
}
