import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { parseEgressAllowList } from '../../src/delivery/egress-guard.ts';
import { systemClock } from '../../src/domain/clock.ts';
import type { CredentialId } from '../../src/domain/ids.ts';
import { createSourceService } from '../../src/ingest/source-service.ts';
import { createCredentialEvents } from '../../src/integrations/credential-events.ts';
import { createCredentialRefresher } from '../../src/integrations/credential-refresher.ts';
import { createIntegrationService } from '../../src/integrations/integration-service.ts';
import { createProviderHttp } from '../../src/integrations/provider-http.ts';
import { startHookyard } from '../../src/main.ts';
import { createSecretBox, loadMasterKeys } from '../../src/security/secret-box.ts';
import { type FakeProvider, fakeProviderDefinition, startFakeProvider } from '../helpers/fake-provider.ts';
import { startTestHookyard, type TestHookyard, wrapTestHookyard } from '../helpers/hookyard.ts';
import { capturingLogger } from '../helpers/log-capture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(probe: () => Promise<T | null | undefined>, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

for (const kind of STORE_KINDS) {
  describe(`credentials (${kind})`, () => {
    let t: TestHookyard;
    let provider: FakeProvider;
    let projectId: string;
    let key: string;
    let otherProjectId: string;
    let otherKey: string;
    const answers: string[] = [];
    const logs = capturingLogger();

    const api = async (...args: Parameters<TestHookyard['api']>) => {
      const res = await t.api(...args);
      answers.push(JSON.stringify(res.body));
      return res;
    };
    const base = (suffix = '') => `/api/v1/projects/${projectId}/credentials${suffix}`;
    const past = () => new Date(Date.now() - 1000).toISOString();

    async function createCredential(userId: string, account: string, expiresAt = past()) {
      const tokens = provider.grant(account);
      const res = await api('POST', base(), {
        key,
        body: {
          integration: 'fakecrm',
          userId,
          providerAccountId: account,
          auth: { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, expiresAt },
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return { id: res.body.id as CredentialId, tokens };
    }

    before(async () => {
      provider = await startFakeProvider();
      t = await startTestHookyard(kind, {}, { logger: logs.logger });
      projectId = (await api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
      key = (await api('POST', `/api/v1/projects/${projectId}/api-keys`, { body: {} })).body.key;
      otherProjectId = (await api('POST', '/api/v1/projects', { body: { name: 'B' } })).body.id;
      otherKey = (await api('POST', `/api/v1/projects/${otherProjectId}/api-keys`, { body: {} })).body.key;
      const defined = await api('POST', `/api/v1/projects/${projectId}/integrations`, {
        key,
        body: fakeProviderDefinition(provider),
      });
      assert.equal(defined.status, 201, JSON.stringify(defined.body));
      const settings = await api('PUT', `/api/v1/projects/${projectId}/integrations/fakecrm/settings`, {
        key,
        body: { clientId: provider.clientId, clientSecret: provider.clientSecret },
      });
      assert.equal(settings.status, 200, JSON.stringify(settings.body));
    });
    after(async () => {
      await t.cleanup();
      await provider.close();
    });

    it('stores a credential from the project’s backend, lists it by user and integration, never shows its tokens', async () => {
      const a1 = await createCredential('user-a', 'acct-a1');
      const a2 = await createCredential('user-a', 'acct-a2');
      const b1 = await createCredential('user-b', 'acct-b1');
      const got = await api('GET', base(`/${a1.id}`), { key });
      assert.equal(got.status, 200);
      assert.match(got.body.id, /^cred_/);
      assert.equal(got.body.integration, 'fakecrm');
      assert.equal(got.body.userId, 'user-a');
      assert.equal(got.body.providerAccountId, 'acct-a1');
      assert.equal(got.body.status, 'active');
      assert.equal(got.body.hasRefreshToken, true);
      assert.ok(!JSON.stringify(got.body).includes(a1.tokens.access_token));

      const page1 = await api('GET', `${base()}?userId=user-a&integration=fakecrm&limit=1`, { key });
      assert.deepEqual(
        page1.body.items.map((c: { id: string }) => c.id),
        [a1.id],
      );
      const page2 = await api('GET', `${base()}?userId=user-a&limit=5&after=${page1.body.nextCursor}`, {
        key,
      });
      assert.deepEqual(
        page2.body.items.map((c: { id: string }) => c.id),
        [a2.id],
      );
      assert.equal(page2.body.nextCursor, null);
      const byB = await api('GET', `${base()}?userId=user-b`, { key });
      assert.deepEqual(
        byB.body.items.map((c: { id: string }) => c.id),
        [b1.id],
      );

      // Another project sees none of it.
      assert.equal((await api('GET', base(`/${a1.id}`), { key: otherKey })).status, 404);
      const other = await api('GET', `/api/v1/projects/${otherProjectId}/credentials`, { key: otherKey });
      assert.deepEqual(other.body.items, []);
      assert.equal(
        (await api('GET', `/api/v1/projects/${otherProjectId}/credentials/${a1.id}`, { key: otherKey }))
          .status,
        404,
      );
    });

    it('refuses bad input naming the field, and a second credential for the same account', async () => {
      const wrongAuth = await api('POST', base(), {
        key,
        body: { integration: 'fakecrm', userId: 'u', auth: { apiKey: 'k' } },
      });
      assert.equal(wrongAuth.status, 400);
      assert.match(wrongAuth.body.detail, /auth\.apiKey: not a field of oauth2 auth/);
      const noUser = await api('POST', base(), {
        key,
        body: { integration: 'fakecrm', auth: { accessToken: 'x' } },
      });
      assert.equal(noUser.status, 400);
      assert.match(noUser.body.detail, /userId/);
      const unknown = await api('POST', base(), { key, body: { integration: 'nope', userId: 'u' } });
      assert.equal(unknown.status, 404);
      const settings = await api('POST', base(), {
        key,
        body: { integration: 'fakecrm', userId: 'u', auth: { accessToken: 'x' }, settings: { shop: 'x' } },
      });
      assert.equal(settings.status, 400);
      assert.match(settings.body.detail, /settings\.shop: is not a credential setting of fakecrm/);
      const apiKeyOnStripe = await api('POST', base(), {
        key,
        body: {
          integration: 'stripe',
          userId: 'u',
          providerAccountId: 'acct_1',
          auth: { apiKey: 'sk_test_x' },
        },
      });
      assert.equal(apiKeyOnStripe.status, 201, JSON.stringify(apiKeyOnStripe.body));
      assert.equal(apiKeyOnStripe.body.authType, 'apiKey');
      const again = await api('POST', base(), {
        key,
        body: {
          integration: 'stripe',
          userId: 'u',
          providerAccountId: 'acct_1',
          auth: { apiKey: 'sk_test_y' },
        },
      });
      assert.equal(again.status, 409);
      assert.match(again.body.detail, /already connects account acct_1/);
    });

    it('publishes integration.enabled on create and integration.disabled on delete', async () => {
      const { id } = await createCredential('user-e', 'acct-e');
      const enabled = await waitFor(async () => {
        const r = await api(
          'GET',
          `/api/v1/projects/${projectId}/messages?eventType=integration.enabled&credentialId=${id}`,
          { key },
        );
        return r.body.items?.[0];
      }, 'integration.enabled');
      assert.deepEqual(enabled.payload, { credentialId: id, userId: 'user-e', integration: 'fakecrm' });
      assert.equal(enabled.userId, 'user-e');
      assert.equal((await api('DELETE', base(`/${id}`), { key: otherKey })).status, 404);
      const deleted = await api('DELETE', base(`/${id}`), { key });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body, { id, deleted: true, warnings: [] });
      assert.equal((await api('GET', base(`/${id}`), { key })).status, 404);
      const disabled = await waitFor(async () => {
        const r = await api(
          'GET',
          `/api/v1/projects/${projectId}/messages?eventType=integration.disabled&credentialId=${id}`,
          { key },
        );
        return r.body.items?.[0];
      }, 'integration.disabled');
      assert.deepEqual(disabled.payload, { credentialId: id, userId: 'user-e', integration: 'fakecrm' });
    });

    it('refreshes with a rotating refresh token: the new one is stored with the new access token and works next time', async () => {
      const { id, tokens } = await createCredential('user-r', 'acct-r');
      const before = provider.refreshCount;
      const first = await api('POST', base(`/${id}/refresh`), { key });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.status, 'active');
      assert.ok(first.body.lastRefreshedAt);
      assert.ok(Date.parse(first.body.accessTokenExpiresAt) > Date.now() + 3000_000);
      assert.equal(provider.refreshCount, before + 1);
      // The old refresh token is spent at the provider; the stored one is the rotated one.
      const second = await api('POST', base(`/${id}/refresh`), { key });
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal(provider.refreshCount, before + 2);
      const spent = provider.requests.filter(
        (r) =>
          r.path === '/oauth/token' &&
          new URLSearchParams(r.body).get('refresh_token') === tokens.refresh_token,
      );
      assert.equal(spent.length, 1, 'the original refresh token was spent once');
    });

    it('a refresh refused with invalid_grant marks the credential needs_reauth with the reason', async () => {
      const { id } = await createCredential('user-x', 'acct-x');
      provider.revokeAccount('acct-x');
      const refused = await api('POST', base(`/${id}/refresh`), { key });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'credential_needs_reauth');
      assert.match(refused.body.detail, /invalid_grant/);
      const got = await api('GET', base(`/${id}`), { key });
      assert.equal(got.body.status, 'needs_reauth');
      assert.match(got.body.statusReason, /token refresh refused: invalid_grant/);
      const count = provider.refreshCount;
      assert.equal((await api('POST', base(`/${id}/refresh`), { key })).status, 409);
      assert.equal(provider.refreshCount, count, 'a credential that needs reauth is not refreshed again');
    });

    it('getFreshCredential refreshes a token that expires within a minute, and not one that does not', async () => {
      const secrets = createSecretBox(loadMasterKeys(t.config.masterKey, t.config.dataDir));
      const store = t.hy.store;
      const sources = createSourceService({ store, secrets, clock: systemClock, publicBaseUrl: t.url });
      const integrations = createIntegrationService({
        store,
        secrets,
        clock: systemClock,
        sources,
        shipped: new Map(),
      });
      const http = createProviderHttp({ egressAllow: parseEgressAllowList('127.0.0.1/32') });
      const refresher = createCredentialRefresher({
        store,
        secrets,
        clock: systemClock,
        integrations,
        events: createCredentialEvents(pino({ level: 'silent' })),
        providerFetch: http.fetch,
        logger: pino({ level: 'silent' }),
      });
      try {
        const later = await createCredential(
          'user-f',
          'acct-f1',
          new Date(Date.now() + 10 * 60_000).toISOString(),
        );
        const soon = await createCredential('user-f', 'acct-f2', new Date(Date.now() + 30_000).toISOString());
        const count = provider.refreshCount;
        const kept = await refresher.getFreshCredential(later.id);
        assert.equal(kept.secrets.accessToken, later.tokens.access_token);
        assert.equal(
          kept.auth && 'header' in kept.auth ? kept.auth.value : null,
          `Bearer ${later.tokens.access_token}`,
        );
        assert.equal(provider.refreshCount, count);
        const [x, y] = await Promise.all([
          refresher.getFreshCredential(soon.id),
          refresher.getFreshCredential(soon.id),
        ]);
        assert.notEqual(x.secrets.accessToken, soon.tokens.access_token);
        assert.equal(x.secrets.accessToken, y.secrets.accessToken);
        assert.equal(provider.refreshCount, count + 1);
        assert.equal(provider.accountOf(x.secrets.accessToken as string), 'acct-f2');
      } finally {
        await http.close();
      }
    });

    it('never writes a token or the client secret into an API answer or a log line', () => {
      const secrets = [
        ...provider.issued.accessTokens,
        ...provider.issued.refreshTokens,
        provider.clientSecret,
      ];
      assert.ok(secrets.length > 10);
      assert.ok(logs.lines.length > 10);
      for (const s of secrets) {
        for (const a of answers) assert.ok(!a.includes(s), `an API answer carries ${s.slice(0, 6)}…`);
        for (const l of logs.lines) assert.ok(!l.includes(s), `a log line carries ${s.slice(0, 6)}…`);
      }
    });

    if (kind === 'postgres') {
      it('two processes refreshing one credential at once spend its refresh token once and keep a working one', async () => {
        const { logger } = capturingLogger();
        const second = wrapTestHookyard(
          await startHookyard(t.config, { logger }),
          t.config,
          t.adminKey,
          async () => {},
        );
        try {
          const { id } = await createCredential('user-p', 'acct-p');
          provider.tokenDelayMs = 300;
          const count = provider.refreshCount;
          const results = await Promise.all([
            t.api('POST', base(`/${id}/refresh`), { key }),
            second.api('POST', base(`/${id}/refresh`), { key }),
            t.api('POST', base(`/${id}/refresh`), { key }),
            second.api('POST', base(`/${id}/refresh`), { key }),
          ]);
          provider.tokenDelayMs = 0;
          for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.equal(provider.refreshCount, count + 1, 'one refresh at the provider');
          const got = await second.api('GET', base(`/${id}`), { key });
          assert.equal(got.body.status, 'active');
          // The stored refresh token is the live one: refreshing again succeeds.
          const again = await second.api('POST', base(`/${id}/refresh`), { key });
          assert.equal(again.status, 200, JSON.stringify(again.body));
          assert.equal(provider.refreshCount, count + 2);
        } finally {
          provider.tokenDelayMs = 0;
          await second.hy.close();
        }
      });
    }
  });
}
