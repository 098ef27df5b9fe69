import { isIP } from 'node:net';
import * as oauth from 'oauth4webapi';
import { HookyardError } from '../domain/errors.ts';
import type { AuthDefinition } from './integration-definition.ts';
import type { ProviderFetch } from './provider-http.ts';
import { renderRequest, TemplateError } from './template-renderer.ts';

export type OAuth2Auth = Extract<AuthDefinition, { type: 'oauth2' }>;

/** What oauth4webapi needs to talk to one provider for one project. */
export interface OAuthApp {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  options: { [oauth.customFetch]: ProviderFetch; [oauth.allowInsecureRequests]?: boolean };
  authorizationUrl: URL;
}

/** Tokens as a provider's token endpoint gave them, with the expiry made absolute. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  accessTokenExpiresAtMs: number | null;
  /** The whole response, for the provider account id's JSON path. */
  raw: Record<string, unknown>;
}

/**
 * Plain HTTP only to loopback: the egress guard already refuses loopback unless the operator
 * allow-listed it (a provider on the operator's own machine); anything else must be HTTPS.
 */
function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function renderUrl(template: string, settings: Record<string, unknown>, field: string): URL {
  try {
    return new URL(
      renderRequest({ method: 'GET', url: template }, { credential: { settings } }, { field }).url,
    );
  } catch (err) {
    if (err instanceof TemplateError) throw new HookyardError('validation_failed', err.message);
    throw err;
  }
}

export function createOAuthApp(
  auth: OAuth2Auth,
  client: { clientId: string; clientSecret: string | null },
  credentialSettings: Record<string, unknown>,
  fetch: ProviderFetch,
): OAuthApp {
  const authorizationUrl = renderUrl(auth.authorizationUrl, credentialSettings, 'auth.authorizationUrl');
  const tokenUrl = renderUrl(auth.tokenUrl, credentialSettings, 'auth.tokenUrl');
  const insecure = authorizationUrl.protocol === 'http:' || tokenUrl.protocol === 'http:';
  if (insecure && !(isLoopback(authorizationUrl) && isLoopback(tokenUrl))) {
    throw new HookyardError(
      'validation_failed',
      'auth: the authorization and token URLs must be https (plain http only to a loopback address)',
    );
  }
  const secret = client.clientSecret ?? '';
  return {
    as: {
      issuer: authorizationUrl.origin,
      authorization_endpoint: authorizationUrl.href,
      token_endpoint: tokenUrl.href,
    },
    client: { client_id: client.clientId },
    clientAuth:
      client.clientSecret === null
        ? oauth.None()
        : auth.tokenAuthMethod === 'client_secret_basic'
          ? oauth.ClientSecretBasic(secret)
          : oauth.ClientSecretPost(secret),
    options: { [oauth.customFetch]: fetch, ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}) },
    authorizationUrl,
  };
}

export function tokenSet(response: oauth.TokenEndpointResponse, nowMs: number): TokenSet {
  const expiresIn = typeof response.expires_in === 'number' ? response.expires_in : null;
  return {
    accessToken: response.access_token,
    ...(typeof response.refresh_token === 'string' ? { refreshToken: response.refresh_token } : {}),
    accessTokenExpiresAtMs: expiresIn !== null && expiresIn > 0 ? nowMs + expiresIn * 1000 : null,
    raw: response as unknown as Record<string, unknown>,
  };
}

/** The provider's own words for a refused token request (`invalid_grant: …`), or the error's message. */
export function describeOAuthError(err: unknown): { invalidGrant: boolean; reason: string } {
  if (err instanceof oauth.ResponseBodyError) {
    const description = err.error_description ? `: ${err.error_description.slice(0, 200)}` : '';
    return { invalidGrant: err.error === 'invalid_grant', reason: `${err.error}${description}` };
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    const description = err.error_description ? `: ${err.error_description.slice(0, 200)}` : '';
    return { invalidGrant: false, reason: `${err.error}${description}` };
  }
  return { invalidGrant: false, reason: err instanceof Error ? err.message.slice(0, 300) : String(err) };
}
