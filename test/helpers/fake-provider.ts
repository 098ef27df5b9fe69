import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake OAuth 2 provider on loopback, behaving as real ones do where Hookyard depends on it:
 *
 * - `GET /oauth/authorize` consents at once for `nextAccount` and redirects to `redirect_uri`
 *   with `code` and `state` (or `error=access_denied` when `denyNext` is set);
 * - `POST /oauth/token` (form; client_secret_post or client_secret_basic) takes the
 *   `authorization_code` grant (codes work once, within 60 s, for the redirect_uri they were issued
 *   to, with the PKCE verifier when a challenge was sent) and the `refresh_token` grant, which
 *   rotates: the refresh token spent stops working, as Slack, Zoom and Calendly do;
 *   a spent, revoked or unknown one is answered `400 invalid_grant`;
 * - `GET /me` answers `{ id }`, the account the bearer token belongs to.
 *
 * Other routes (webhook subscribe, renew, delete…) are added with `route()`; a path ending in
 * `/*` matches every path under it. Every request is
 * recorded in `requests`.
 */
export interface FakeProviderOptions {
  clientId?: string;
  clientSecret?: string;
  accessTokenTtlSeconds?: number;
  /** Whether the token response carries `account_id` (else only /me tells it). */
  accountIdInTokenResponse?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export type FakeRouteHandler = (
  request: RecordedRequest,
) =>
  | { status: number; json?: unknown; headers?: Record<string, string> }
  | Promise<{ status: number; json?: unknown; headers?: Record<string, string> }>;

interface Grant {
  account: string;
  expiresAtMs: number;
}

export interface FakeProvider {
  url: string;
  clientId: string;
  clientSecret: string;
  /** The account the next authorization consents as. */
  nextAccount: string;
  /** The next authorization is refused by the "user" (error=access_denied). */
  denyNext: boolean;
  /** Wait this long before answering the token endpoint (widens races in tests). */
  tokenDelayMs: number;
  requests: RecordedRequest[];
  /** Refresh grants answered with new tokens. */
  refreshCount: number;
  /** Every access and refresh token issued so far. */
  issued: { accessTokens: string[]; refreshTokens: string[] };
  /** Tokens for the account as if it had just connected (the token response's JSON). */
  grant(account: string): { access_token: string; refresh_token: string; expires_in: number };
  /** Makes a refresh token stop working (a user revoking the app). */
  revokeRefreshToken(token: string): void;
  /** Revokes every live refresh token of the account. */
  revokeAccount(account: string): void;
  /** The account a live access token belongs to, or null. */
  accountOf(accessToken: string): string | null;
  route(method: string, path: string, handler: FakeRouteHandler): void;
  close(): Promise<void>;
}

const sha256url = (s: string) => createHash('sha256').update(s).digest('base64url');
const token = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url')}`;

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const codes = new Map<
    string,
    { account: string; redirectUri: string; challenge: string | null; clientId: string; expiresAtMs: number }
  >();
  const accessTokens = new Map<string, Grant>();
  const refreshTokens = new Map<string, { account: string; live: boolean }>();
  const routes = new Map<string, FakeRouteHandler>();
  const ttlSeconds = options.accessTokenTtlSeconds ?? 3600;

  const send = (
    res: ServerResponse,
    status: number,
    json?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const body = json === undefined ? '' : JSON.stringify(json);
    res.writeHead(status, {
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(body);
  };
  const oauthError = (res: ServerResponse, status: number, error: string, description: string) =>
    send(res, status, { error, error_description: description });

  function issue(account: string, withAccountId: boolean) {
    const access = token('at');
    const refresh = token('rt');
    accessTokens.set(access, { account, expiresAtMs: Date.now() + ttlSeconds * 1000 });
    refreshTokens.set(refresh, { account, live: true });
    provider.issued.accessTokens.push(access);
    provider.issued.refreshTokens.push(refresh);
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: ttlSeconds,
      refresh_token: refresh,
      scope: 'records.read',
      ...(withAccountId ? { account_id: account } : {}),
    };
  }

  function clientOk(req: RecordedRequest, form: URLSearchParams): boolean {
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (basic?.[1]) {
      const [u, p] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      id = decodeURIComponent(u ?? '');
      secret = decodeURIComponent(p ?? '');
    }
    return id === provider.clientId && secret !== null && safeEqual(secret, provider.clientSecret);
  }

  async function tokenEndpoint(req: RecordedRequest, res: ServerResponse) {
    if (provider.tokenDelayMs > 0) await new Promise((r) => setTimeout(r, provider.tokenDelayMs));
    const form = new URLSearchParams(req.body);
    if (!clientOk(req, form)) return oauthError(res, 401, 'invalid_client', 'client authentication failed');
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (!code || code.expiresAtMs < Date.now())
        return oauthError(res, 400, 'invalid_grant', 'unknown or used code');
      if (code.redirectUri !== form.get('redirect_uri')) {
        return oauthError(res, 400, 'invalid_grant', 'redirect_uri does not match the authorization request');
      }
      if (code.challenge !== null) {
        const verifier = form.get('code_verifier');
        if (!verifier || sha256url(verifier) !== code.challenge) {
          return oauthError(res, 400, 'invalid_grant', 'PKCE verification failed');
        }
      }
      return send(res, 200, issue(code.account, options.accountIdInTokenResponse !== false));
    }
    if (grant === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const entry = refreshTokens.get(presented);
      if (!entry?.live)
        return oauthError(res, 400, 'invalid_grant', 'the refresh token is invalid or was revoked');
      // Rotation: the token just spent never works again.
      entry.live = false;
      provider.refreshCount++;
      return send(res, 200, issue(entry.account, false));
    }
    return oauthError(res, 400, 'unsupported_grant_type', `grant_type ${grant}`);
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake.invalid');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      provider.requests.push(recorded);
      void handle(recorded, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
    });
  });

  // `/webhooks/*` matches any path under /webhooks/ (the id a provider gave).
  function prefixRoute(method: string, path: string): FakeRouteHandler | undefined {
    for (const [key, handler] of routes) {
      const [m, p] = key.split(' ');
      if (m === method && p?.endsWith('/*') && path.startsWith(p.slice(0, -1))) return handler;
    }
    return undefined;
  }

  async function handle(req: RecordedRequest, res: ServerResponse) {
    const custom = routes.get(`${req.method} ${req.path}`) ?? prefixRoute(req.method, req.path);
    if (custom) {
      const out = await custom(req);
      return send(res, out.status, out.json, out.headers);
    }
    if (req.method === 'GET' && req.path === '/oauth/authorize') {
      const q = req.query;
      const redirectUri = q.get('redirect_uri');
      if (q.get('client_id') !== provider.clientId || !redirectUri) {
        return send(res, 400, {
          error: 'invalid_request',
          error_description: 'unknown client or no redirect_uri',
        });
      }
      const back = new URL(redirectUri);
      const state = q.get('state');
      if (state !== null) back.searchParams.set('state', state);
      if (provider.denyNext) {
        provider.denyNext = false;
        back.searchParams.set('error', 'access_denied');
        back.searchParams.set('error_description', 'The user denied access');
      } else {
        const challenge = q.get('code_challenge');
        if (challenge !== null && q.get('code_challenge_method') !== 'S256') {
          return send(res, 400, { error: 'invalid_request', error_description: 'only S256' });
        }
        const code = token('code');
        codes.set(code, {
          account: provider.nextAccount,
          redirectUri,
          challenge,
          clientId: provider.clientId,
          expiresAtMs: Date.now() + 60_000,
        });
        back.searchParams.set('code', code);
      }
      return send(res, 302, undefined, { location: back.href });
    }
    if (req.method === 'POST' && req.path === '/oauth/token') return tokenEndpoint(req, res);
    if (req.method === 'GET' && req.path === '/me') {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const account = provider.accountOf(bearer);
      if (!account) return send(res, 401, { error: 'invalid_token' });
      return send(res, 200, { id: account, name: `Account ${account}` });
    }
    return send(res, 404, { error: 'not_found' });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const provider: FakeProvider = {
    url: `http://127.0.0.1:${port}`,
    clientId: options.clientId ?? 'client-1',
    clientSecret: options.clientSecret ?? `secret-${randomBytes(8).toString('hex')}`,
    nextAccount: 'acct-1',
    denyNext: false,
    tokenDelayMs: 0,
    requests: [],
    refreshCount: 0,
    issued: { accessTokens: [], refreshTokens: [] },
    grant: (account) => issue(account, true),
    revokeRefreshToken(t) {
      const entry = refreshTokens.get(t);
      if (entry) entry.live = false;
    },
    revokeAccount(account) {
      for (const entry of refreshTokens.values()) if (entry.account === account) entry.live = false;
    },
    accountOf(accessToken) {
      const grant = accessTokens.get(accessToken);
      return grant && grant.expiresAtMs > Date.now() ? grant.account : null;
    },
    route(method, path, handler) {
      routes.set(`${method.toUpperCase()} ${path}`, handler);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return provider;
}

/** An integration definition whose OAuth points at the fake provider. */
export function fakeProviderDefinition(
  provider: FakeProvider,
  options: { key?: string; pkce?: boolean; accountIdFrom?: 'token' | 'me' } = {},
) {
  return {
    key: options.key ?? 'fakecrm',
    name: 'Fake CRM',
    auth: {
      type: 'oauth2',
      authorizationUrl: `${provider.url}/oauth/authorize`,
      tokenUrl: `${provider.url}/oauth/token`,
      scopes: ['records.read', 'webhooks.write'],
      ...(options.pkce ? { pkce: true } : {}),
      providerAccountId:
        options.accountIdFrom === 'me'
          ? { jsonPath: '$.id', request: { method: 'GET', url: `${provider.url}/me` } }
          : { jsonPath: '$.account_id' },
    },
    triggers: [
      {
        type: 'record.created',
        title: 'Record Created',
        setup: 'manual',
        level: 'user',
        verification: {
          type: 'hmac',
          algorithm: 'sha256',
          secretEncoding: 'utf8',
          secret: '{{credential.settings.webhookSecret}}',
          signature: { header: 'x-fake-signature', encoding: 'hex' },
          signedContent: '{body}',
        },
        eventType: { jsonPath: '$.type' },
      },
    ],
  };
}
