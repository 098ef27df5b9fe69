import { createHash } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import { HookyardError } from '../domain/errors.ts';
import type { CredentialId, ProjectId } from '../domain/ids.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { Store } from '../store/store.ts';
import { type CredentialService, parseCredentialSettings } from './credential-service.ts';
import type { IntegrationService } from './integration-service.ts';
import { createOAuthApp, describeOAuthError, type OAuth2Auth, tokenSet } from './oauth-client.ts';
import type { ProviderFetch } from './provider-http.ts';

/** How long a user has between leaving for the provider and coming back. */
export const CONNECT_STATE_TTL_MS = 10 * 60_000;
export const MAX_REDIRECT_URL_CHARS = 2048;
export const MAX_ALLOWED_REDIRECT_ORIGINS = 50;
/** Connects in flight per project: bounds what user tokens can make the store hold. */
export const MAX_PENDING_CONNECTS = 1000;
/** The provider redirects here; one fixed URL, so one registration at the provider serves every project. */
export const OAUTH_CALLBACK_PATH = '/oauth/callback';

const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

function invalid(detail: string): HookyardError {
  return new HookyardError('validation_failed', detail);
}

/** `https://app.example` from what a project writes; refuses paths, credentials and other schemes. */
export function parseOrigin(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > 256)
    throw invalid(`${field}: expected an origin such as https://app.example`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`${field}: expected an origin such as https://app.example`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw invalid(`${field}: expected an http or https origin`);
  if (
    url.username ||
    url.password ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.hash
  ) {
    throw invalid(`${field}: expected an origin only (scheme, host and port), such as https://app.example`);
  }
  return url.origin;
}

export type ConnectOutcome =
  | { ok: true; redirectTo: string; credentialId: CredentialId }
  | { ok: false; redirectTo: string; error: string };

/**
 * OAuth connect as a hosted connect portal does it. `start` checks the redirect against the
 * project's allowed origins, stores a one-time state (its SHA-256 only) bound to the project,
 * user and integration, with a PKCE verifier where the definition declares PKCE, and answers the
 * provider's authorization URL. `finish` takes the state once, exchanges the code, finds the
 * provider account id, stores the credential (or refreshes the one of the same account) and
 * answers where to send the browser back, with the credential id or the error.
 */
export function createOAuthConnect(deps: {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  integrations: Pick<IntegrationService, 'find' | 'oauthClient'>;
  credentials: CredentialService;
  providerFetch: ProviderFetch;
  callbackUrl: string;
  logger: Logger;
}) {
  const { store, secrets: box, clock, integrations, credentials, providerFetch, callbackUrl } = deps;
  const log = deps.logger.child({ scope: 'oauth-connect' });

  async function oauthSetup(projectId: ProjectId, key: string, settings: Record<string, unknown>) {
    const { definition } = await integrations.find(projectId, key);
    if (definition.auth.type !== 'oauth2') {
      throw invalid(
        `integration ${key} connects with ${definition.auth.type}, not OAuth; create its credential with POST /api/v1/projects/{projectId}/credentials`,
      );
    }
    const client = await integrations.oauthClient(projectId, key);
    if (client.clientId === null) {
      throw new HookyardError(
        'conflict',
        `the project has no OAuth client for ${key}: set clientId and clientSecret with PUT /api/v1/projects/{projectId}/integrations/${key}/settings`,
      );
    }
    const auth: OAuth2Auth = definition.auth;
    const app = createOAuthApp(
      auth,
      { clientId: client.clientId, clientSecret: client.clientSecret },
      settings,
      providerFetch,
    );
    return { definition, auth, app };
  }

  async function checkRedirect(projectId: ProjectId, redirect: unknown): Promise<string> {
    if (typeof redirect !== 'string' || redirect === '' || redirect.length > MAX_REDIRECT_URL_CHARS) {
      throw invalid(`redirect: expected an absolute URL of at most ${MAX_REDIRECT_URL_CHARS} characters`);
    }
    let url: URL;
    try {
      url = new URL(redirect);
    } catch {
      throw invalid('redirect: expected an absolute URL');
    }
    const allowed = (await store.getConnectSettings(projectId))?.allowedRedirectOrigins ?? [];
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !allowed.includes(url.origin)) {
      throw new HookyardError(
        'redirect_not_allowed',
        `redirect: ${url.origin} is not an origin this project allows (${allowed.length ? allowed.join(', ') : 'none yet'}); add it with PUT /api/v1/projects/{projectId}/connect-settings`,
      );
    }
    return url.href;
  }

  function back(redirectUrl: string, params: Record<string, string>): string {
    const url = new URL(redirectUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url.href;
  }

  return {
    async start(input: {
      projectId: ProjectId;
      userId: string;
      integration: string;
      redirect: unknown;
      settings: Record<string, unknown>;
    }): Promise<string> {
      const redirectUrl = await checkRedirect(input.projectId, input.redirect);
      const { definition } = await integrations.find(input.projectId, input.integration);
      const settings = parseCredentialSettings(definition, input.settings);
      const { auth, app } = await oauthSetup(input.projectId, input.integration, settings);
      if ((await store.countOAuthStates(input.projectId, clock.nowMs())) >= MAX_PENDING_CONNECTS) {
        throw new HookyardError(
          'rate_limited',
          `the project has ${MAX_PENDING_CONNECTS} connects in flight; each expires ${CONNECT_STATE_TTL_MS / 60_000} minutes after it started`,
        );
      }
      const state = oauth.generateRandomState();
      const verifier = auth.pkce ? oauth.generateRandomCodeVerifier() : null;
      const nowMs = clock.nowMs();
      await store.insertOAuthState({
        stateHash: hashState(state),
        projectId: input.projectId,
        userId: input.userId,
        integration: input.integration,
        redirectUrl,
        codeVerifierSealed: verifier === null ? null : box.seal(verifier),
        settingsSealed: box.seal(JSON.stringify(settings)),
        expiresAtMs: nowMs + CONNECT_STATE_TTL_MS,
        createdAtMs: nowMs,
      });
      const url = new URL(app.authorizationUrl);
      for (const [k, v] of Object.entries(auth.authorizationParams ?? {})) url.searchParams.set(k, v);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', app.client.client_id);
      url.searchParams.set('redirect_uri', callbackUrl);
      url.searchParams.set('state', state);
      if (auth.scopes?.length) url.searchParams.set('scope', auth.scopes.join(auth.scopeSeparator ?? ' '));
      if (verifier !== null) {
        url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
        url.searchParams.set('code_challenge_method', 'S256');
      }
      return url.href;
    },

    /** Throws `oauth_state_invalid` when there is nowhere safe to send the browser back to. */
    async finish(query: URLSearchParams): Promise<ConnectOutcome> {
      const state = query.get('state');
      if (!state || state.length > 512) {
        throw new HookyardError('oauth_state_invalid', 'state: the callback carries no state');
      }
      const taken = await store.takeOAuthState(hashState(state), clock.nowMs());
      if (!taken) {
        throw new HookyardError(
          'oauth_state_invalid',
          'state: unknown, expired or already used; start the connect again',
        );
      }
      const scope = { projectId: taken.projectId, integration: taken.integration };
      const failed = (error: string, description: string): ConnectOutcome => {
        log.warn({ ...scope, error, description }, 'connect failed');
        return {
          ok: false,
          error,
          redirectTo: back(taken.redirectUrl, {
            error,
            error_description: description.slice(0, 300),
            integration: taken.integration,
          }),
        };
      };
      try {
        const settings = JSON.parse(box.open(taken.settingsSealed)) as Record<string, unknown>;
        const { definition, app } = await oauthSetup(taken.projectId, taken.integration, settings);
        let params: URLSearchParams;
        try {
          params = oauth.validateAuthResponse(app.as, app.client, query, state);
        } catch (err) {
          const { reason } = describeOAuthError(err);
          const code = err instanceof oauth.AuthorizationResponseError ? err.error : 'invalid_response';
          return failed(code, reason);
        }
        const verifier =
          taken.codeVerifierSealed === null ? oauth.nopkce : box.open(taken.codeVerifierSealed);
        let tokens: ReturnType<typeof tokenSet>;
        try {
          const response = await oauth.authorizationCodeGrantRequest(
            app.as,
            app.client,
            app.clientAuth,
            params,
            callbackUrl,
            verifier,
            app.options,
          );
          tokens = tokenSet(
            await oauth.processAuthorizationCodeResponse(app.as, app.client, response),
            clock.nowMs(),
          );
        } catch (err) {
          return failed('token_exchange_failed', describeOAuthError(err).reason);
        }
        const secrets = {
          accessToken: tokens.accessToken,
          ...(tokens.refreshToken !== undefined ? { refreshToken: tokens.refreshToken } : {}),
        };
        const providerAccountId = await credentials.findProviderAccountId(
          definition,
          secrets,
          settings,
          tokens.raw,
        );
        const { record, created } = await credentials.store({
          projectId: taken.projectId,
          userId: taken.userId,
          definition,
          providerAccountId,
          secrets,
          accessTokenExpiresAtMs: tokens.accessTokenExpiresAtMs,
          settings,
          reconnect: true,
        });
        log.info({ ...scope, credentialId: record.id, created }, 'account connected');
        return {
          ok: true,
          credentialId: record.id,
          redirectTo: back(taken.redirectUrl, { credentialId: record.id, integration: taken.integration }),
        };
      } catch (err) {
        if (err instanceof HookyardError) return failed(err.code, err.detail);
        log.error({ ...scope, err }, 'connect failed unexpectedly');
        return failed('internal', 'the connect failed; try again');
      }
    },

    /** Replaces the origins a project's connect flow may send browsers back to. */
    async putSettings(projectId: ProjectId, body: { allowedRedirectOrigins?: unknown }) {
      const given = body.allowedRedirectOrigins;
      if (!Array.isArray(given) || given.length > MAX_ALLOWED_REDIRECT_ORIGINS) {
        throw invalid(
          `allowedRedirectOrigins: expected a list of at most ${MAX_ALLOWED_REDIRECT_ORIGINS} origins`,
        );
      }
      const origins = [...new Set(given.map((o, i) => parseOrigin(o, `allowedRedirectOrigins[${i}]`)))];
      const record = { projectId, allowedRedirectOrigins: origins, updatedAtMs: clock.nowMs() };
      await store.putConnectSettings(record);
      return record;
    },
  };
}

export type OAuthConnect = ReturnType<typeof createOAuthConnect>;
