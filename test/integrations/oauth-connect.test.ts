import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type FakeProvider, fakeProviderDefinition, startFakeProvider } from '../helpers/fake-provider.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { capturingLogger } from '../helpers/log-capture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** One hop of a browser: the status and where it is sent next. */
async function hop(url: string): Promise<{ status: number; location: string | null; body: any }> {
  const res = await fetch(url, { redirect: 'manual' });
  const text = await res.text();
  answersSeen.push(text, res.headers.get('location') ?? '');
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, location: res.headers.get('location'), body };
}

const APP = 'https://app.example';
/** Every answer a browser got, to check no token was ever in one. */
const answersSeen: string[] = [];

for (const kind of STORE_KINDS) {
  describe(`OAuth connect over HTTP (${kind})`, () => {
    let t: TestHookyard;
    let provider: FakeProvider;
    let projectId: string;
    let key: string;
    const logs = capturingLogger();

    const userToken = async (userId: string) => {
      const res = await t.api('POST', `/api/v1/projects/${projectId}/user-tokens`, { key, body: { userId } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.token as string;
    };
    const connectUrl = (token: string, redirect: string, integration = 'fakecrm') =>
      `${t.url}/projects/${projectId}/sdk/connect/${integration}?token=${encodeURIComponent(token)}&redirect=${encodeURIComponent(redirect)}`;

    /** The browser's whole trip: Hookyard → provider → Hookyard's callback → back to the app. */
    async function connect(userId: string, integration = 'fakecrm') {
      const start = await hop(connectUrl(await userToken(userId), `${APP}/done?step=1`, integration));
      assert.equal(start.status, 302, JSON.stringify(start.body));
      const consent = await hop(start.location as string);
      assert.equal(consent.status, 302, JSON.stringify(consent.body));
      const callback = consent.location as string;
      const back = await hop(callback);
      assert.equal(back.status, 303, JSON.stringify(back.body));
      return {
        authorize: new URL(start.location as string),
        callback,
        back: new URL(back.location as string),
      };
    }

    before(async () => {
      provider = await startFakeProvider();
      const port = await freePort();
      t = await startTestHookyard(
        kind,
        { port: String(port), publicBaseUrl: `http://127.0.0.1:${port}` },
        { logger: logs.logger },
      );
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
      key = (await t.api('POST', `/api/v1/projects/${projectId}/api-keys`, { body: {} })).body.key;
      for (const def of [
        fakeProviderDefinition(provider, { pkce: true, accountIdFrom: 'me' }),
        fakeProviderDefinition(provider, { key: 'fakecrm2' }),
      ]) {
        const created = await t.api('POST', `/api/v1/projects/${projectId}/integrations`, { key, body: def });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const settings = await t.api(
          'PUT',
          `/api/v1/projects/${projectId}/integrations/${def.key}/settings`,
          {
            key,
            body: { clientId: provider.clientId, clientSecret: provider.clientSecret },
          },
        );
        assert.equal(settings.status, 200);
      }
      const allowed = await t.api('PUT', `/api/v1/projects/${projectId}/connect-settings`, {
        key,
        body: { allowedRedirectOrigins: [APP] },
      });
      assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    });
    after(async () => {
      await t.cleanup();
      await provider.close();
    });

    it('connects end to end: user token → provider consent (PKCE) → callback → credential stored → back to the app', async () => {
      provider.nextAccount = 'acct-1';
      const { authorize, back } = await connect('user-1');
      assert.equal(authorize.origin + authorize.pathname, `${provider.url}/oauth/authorize`);
      assert.equal(authorize.searchParams.get('client_id'), provider.clientId);
      assert.equal(authorize.searchParams.get('redirect_uri'), `${t.url}/oauth/callback`);
      assert.equal(authorize.searchParams.get('scope'), 'records.read webhooks.write');
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(authorize.searchParams.get('state'));

      assert.equal(back.origin + back.pathname, `${APP}/done`);
      assert.equal(back.searchParams.get('step'), '1', 'the app’s own query survives');
      assert.equal(back.searchParams.get('integration'), 'fakecrm');
      const id = back.searchParams.get('credentialId');
      assert.match(id ?? '', /^cred_/);
      const got = await t.api('GET', `/api/v1/projects/${projectId}/credentials/${id}`, { key });
      assert.equal(got.status, 200);
      assert.equal(got.body.userId, 'user-1');
      assert.equal(got.body.providerAccountId, 'acct-1', 'from the /me follow-up request');
      assert.equal(got.body.status, 'active');
      assert.equal(got.body.hasRefreshToken, true);

      const tokenCall = provider.requests.findLast((r) => r.path === '/oauth/token');
      assert.ok(new URLSearchParams(tokenCall?.body).get('code_verifier'), 'PKCE verifier sent');
      const me = provider.requests.findLast((r) => r.path === '/me');
      assert.match(me?.headers.authorization ?? '', /^Bearer at_/);
    });

    it('finds the account id in the token response where the definition says so (no PKCE)', async () => {
      provider.nextAccount = 'acct-2';
      const meCalls = provider.requests.filter((r) => r.path === '/me').length;
      const { authorize, back } = await connect('user-2', 'fakecrm2');
      assert.equal(authorize.searchParams.get('code_challenge'), null);
      const got = await t.api(
        'GET',
        `/api/v1/projects/${projectId}/credentials/${back.searchParams.get('credentialId')}`,
        {
          key,
        },
      );
      assert.equal(got.body.providerAccountId, 'acct-2');
      assert.equal(provider.requests.filter((r) => r.path === '/me').length, meCalls);
    });

    it('refuses a reused state and a forged one', async () => {
      provider.nextAccount = 'acct-3';
      const { callback } = await connect('user-3');
      const reused = await hop(callback);
      assert.equal(reused.status, 400);
      assert.equal(reused.body.code, 'oauth_state_invalid');
      const forged = new URL(callback);
      forged.searchParams.set('state', 'forged-state-value');
      const refused = await hop(forged.href);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.code, 'oauth_state_invalid');
      const none = await hop(`${t.url}/oauth/callback?code=x`);
      assert.equal(none.status, 400);
      const list = await t.api('GET', `/api/v1/projects/${projectId}/credentials?userId=user-3`, { key });
      assert.equal(list.body.items.length, 1);
    });

    it('refuses a redirect outside the allowed origins before anything reaches the provider', async () => {
      const before = provider.requests.length;
      const token = await userToken('user-4');
      for (const redirect of [
        'https://evil.example/done',
        'https://app.example.evil.example/',
        'javascript:alert(1)',
      ]) {
        const res = await hop(connectUrl(token, redirect));
        assert.equal(res.status, 400, redirect);
        assert.equal(res.body.code, 'redirect_not_allowed', redirect);
      }
      assert.equal(provider.requests.length, before);
      const noToken = await hop(
        `${t.url}/projects/${projectId}/sdk/connect/fakecrm?redirect=${encodeURIComponent(APP)}`,
      );
      assert.equal(noToken.status, 401);
    });

    it('sends the provider’s refusal back to the app as error', async () => {
      provider.denyNext = true;
      const start = await hop(connectUrl(await userToken('user-5'), `${APP}/done`));
      const consent = await hop(start.location as string);
      const back = await hop(consent.location as string);
      assert.equal(back.status, 303);
      const url = new URL(back.location as string);
      assert.equal(url.searchParams.get('error'), 'access_denied');
      assert.equal(url.searchParams.get('credentialId'), null);
    });

    it('connecting the same account again revives a credential that needs reauth, under the same id', async () => {
      provider.nextAccount = 'acct-6';
      const first = (await connect('user-6')).back.searchParams.get('credentialId');
      provider.revokeAccount('acct-6');
      const refused = await t.api('POST', `/api/v1/projects/${projectId}/credentials/${first}/refresh`, {
        key,
      });
      assert.equal(refused.status, 409);
      const second = (await connect('user-6')).back.searchParams.get('credentialId');
      assert.equal(second, first);
      const got = await t.api('GET', `/api/v1/projects/${projectId}/credentials/${first}`, { key });
      assert.equal(got.body.status, 'active');
      assert.equal(got.body.statusReason, null);
      assert.equal(
        (await t.api('POST', `/api/v1/projects/${projectId}/credentials/${first}/refresh`, { key })).status,
        200,
      );
    });

    it('a user token sees and deletes only its own user’s credentials', async () => {
      provider.nextAccount = 'acct-7';
      const mine = (await connect('user-7')).back.searchParams.get('credentialId');
      const theirs = (await t.api('GET', `/api/v1/projects/${projectId}/credentials?userId=user-1`, { key }))
        .body.items[0].id;
      const token = await userToken('user-7');
      const sdk = (method: string, path: string) =>
        fetch(`${t.url}/projects/${projectId}/sdk${path}`, {
          method,
          headers: { authorization: `Bearer ${token}` },
        });
      const list = (await (await sdk('GET', '/credentials')).json()) as { items: Array<{ id: string }> };
      assert.deepEqual(
        list.items.map((c: { id: string }) => c.id),
        [mine],
      );
      assert.equal((await sdk('DELETE', `/credentials/${theirs}`)).status, 404);
      assert.equal(
        (await t.api('GET', `/api/v1/projects/${projectId}/credentials/${theirs}`, { key })).status,
        200,
      );
      assert.equal((await sdk('DELETE', `/credentials/${mine}`)).status, 200);
      assert.equal(
        (await t.api('GET', `/api/v1/projects/${projectId}/credentials/${mine}`, { key })).status,
        404,
      );
    });

    it('never writes a token, the client secret or a code verifier into a log line or an answer', () => {
      const verifiers = provider.requests
        .map((r) => new URLSearchParams(r.body).get('code_verifier'))
        .filter((v): v is string => v !== null);
      const secrets = [
        ...provider.issued.accessTokens,
        ...provider.issued.refreshTokens,
        ...verifiers,
        provider.clientSecret,
      ];
      assert.ok(verifiers.length > 0 && secrets.length > 10);
      assert.ok(logs.lines.length > 10);
      for (const s of secrets) {
        for (const l of logs.lines) assert.ok(!l.includes(s), `a log line carries ${s.slice(0, 6)}…`);
        for (const a of answersSeen) assert.ok(!a.includes(s), `an answer carries ${s.slice(0, 6)}…`);
      }
    });
  });
}
