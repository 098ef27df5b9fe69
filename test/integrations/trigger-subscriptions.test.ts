import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type FakeProvider,
  fakeProviderDefinition,
  type RecordedRequest,
  startFakeProvider,
} from '../helpers/fake-provider.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(probe: () => Promise<T | null | undefined>, what: string, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** The fake CRM with a user-level trigger whose webhook is created, renewed and deleted by API. */
function definitionWithApiTrigger(provider: FakeProvider) {
  const base = fakeProviderDefinition(provider);
  return {
    ...base,
    triggers: [
      ...base.triggers,
      {
        type: 'record.changed',
        title: 'Record Changed',
        setup: 'api',
        level: 'user',
        parameters: [{ key: 'object', type: 'string', required: true, enum: ['contact', 'deal'] }],
        subscribe: {
          request: {
            method: 'POST',
            url: `${provider.url}/webhooks`,
            body: { target_url: '{{settings.webhookURL}}', object: '{{parameters.object}}' },
          },
          response: { id: '$.id', secret: '$.signing_secret', expiresAt: '$.expires_at' },
        },
        unsubscribe: {
          request: { method: 'DELETE', url: `${provider.url}/webhooks/{{subscription.providerId}}` },
        },
        renew: {
          request: {
            method: 'PATCH',
            url: `${provider.url}/webhooks/{{subscription.providerId}}`,
            body: { extend: true },
          },
          response: { expiresAt: '$.expires_at' },
          beforeExpirySeconds: 3600,
        },
        verification: {
          type: 'hmac',
          algorithm: 'sha256',
          secretEncoding: 'utf8',
          secret: '{{subscription.secret}}',
          signature: { header: 'x-fake-signature', encoding: 'hex' },
          signedContent: '{body}',
        },
        eventType: { jsonPath: '$.type' },
      },
    ],
  };
}

for (const kind of STORE_KINDS) {
  describe(`trigger subscriptions (${kind})`, () => {
    let t: TestHookyard;
    let provider: FakeProvider;
    let projectId: string;
    let key: string;
    let otherKey: string;
    let otherProjectId: string;
    /** Webhooks alive at the fake provider, by id. */
    const hooks = new Map<string, { target: string; object: string; secret: string; expiresAtMs: number }>();
    /** What the fake answers next: a refusal status, or the expiry to give (ms from now). */
    const next = { refuse: 0, expiresInMs: 2 * 86_400_000, renewStatus: 200 };

    const base = (suffix = '') => `/api/v1/projects/${projectId}/trigger-subscriptions${suffix}`;
    const requestsTo = (method: string, prefix: string) =>
      provider.requests.filter((r) => r.method === method && r.path.startsWith(prefix));

    async function credential(userId: string, account: string, expiresAt?: string) {
      const tokens = provider.grant(account);
      const res = await t.api('POST', `/api/v1/projects/${projectId}/credentials`, {
        key,
        body: {
          integration: 'fakecrm',
          userId,
          providerAccountId: account,
          auth: {
            accessToken: tokens.access_token,
            refreshToken: tokens.refresh_token,
            expiresAt: expiresAt ?? new Date(Date.now() + 3_600_000).toISOString(),
          },
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return { id: res.body.id as string, tokens };
    }

    const subscribe = (credentialId: string, object = 'contact') =>
      t.api('POST', base(), {
        key,
        body: { integration: 'fakecrm', type: 'record.changed', parameters: { object }, credentialId },
      });

    before(async () => {
      provider = await startFakeProvider();
      provider.route('POST', '/webhooks', (req: RecordedRequest) => {
        if (!provider.accountOf(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '')) {
          return { status: 401, json: { error: 'invalid_token' } };
        }
        if (next.refuse) return { status: next.refuse, json: { error: 'object not allowed for this plan' } };
        const body = JSON.parse(req.body) as { target_url: string; object: string };
        const id = `wh_${randomBytes(6).toString('hex')}`;
        const hook = {
          target: body.target_url,
          object: body.object,
          secret: `whsec_${randomBytes(8).toString('hex')}`,
          expiresAtMs: Date.now() + next.expiresInMs,
        };
        hooks.set(id, hook);
        return {
          status: 201,
          json: { id, signing_secret: hook.secret, expires_at: new Date(hook.expiresAtMs).toISOString() },
        };
      });
      provider.route('DELETE', '/webhooks/*', (req) => {
        const id = req.path.slice('/webhooks/'.length);
        if (id === 'broken') return { status: 500, json: { error: 'boom' } };
        return hooks.delete(id) ? { status: 204 } : { status: 404, json: { error: 'not_found' } };
      });
      provider.route('PATCH', '/webhooks/*', (req) => {
        const id = req.path.slice('/webhooks/'.length);
        const hook = hooks.get(id);
        if (!hook) return { status: 410, json: { error: 'gone' } };
        if (next.renewStatus !== 200) return { status: next.renewStatus, json: { error: 'refused' } };
        hook.expiresAtMs = Date.now() + 2 * 86_400_000;
        return { status: 200, json: { id, expires_at: new Date(hook.expiresAtMs).toISOString() } };
      });
      t = await startTestHookyard(kind, { triggerRenewIntervalMs: '150' });
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
      key = (await t.api('POST', `/api/v1/projects/${projectId}/api-keys`, { body: {} })).body.key;
      otherProjectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'B' } })).body.id;
      otherKey = (await t.api('POST', `/api/v1/projects/${otherProjectId}/api-keys`, { body: {} })).body.key;
      const defined = await t.api('POST', `/api/v1/projects/${projectId}/integrations`, {
        key,
        body: definitionWithApiTrigger(provider),
      });
      assert.equal(defined.status, 201, JSON.stringify(defined.body));
      const settings = await t.api('PUT', `/api/v1/projects/${projectId}/integrations/fakecrm/settings`, {
        key,
        body: { clientId: provider.clientId, clientSecret: provider.clientSecret },
      });
      assert.equal(settings.status, 200, JSON.stringify(settings.body));
    });
    after(async () => {
      await t.cleanup();
      await provider.close();
    });

    it('subscribes with the target URL and the bearer token, stores the provider’s id and secret, answers the issue’s shape', async () => {
      const c = await credential('user-a', 'acct-a');
      const res = await subscribe(c.id);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const sub = res.body;
      assert.match(sub.id, /^sub_/);
      assert.equal(sub.status, 'ACTIVE');
      assert.equal(sub.integration, 'fakecrm');
      assert.equal(sub.type, 'record.changed');
      assert.deepEqual(sub.parameters, { object: 'contact' });
      assert.equal(sub.credentialId, c.id);
      assert.equal(sub.userId, 'user-a');
      assert.equal(sub.webhookUrl, `${t.config.publicBaseUrl}/in/${sub.id}`);
      assert.equal(sub.dateLastReceivedEvent, null);
      assert.ok(!('secret' in sub) && !JSON.stringify(sub).includes('whsec_'));

      const sent = requestsTo('POST', '/webhooks').at(-1);
      assert.equal(sent?.headers.authorization, `Bearer ${c.tokens.access_token}`);
      assert.deepEqual(JSON.parse(sent?.body ?? ''), { target_url: sub.webhookUrl, object: 'contact' });
      const hook = hooks.get(sub.providerSubscriptionId);
      assert.ok(hook, 'the provider holds the webhook under the id stored');
      assert.equal(hook.target, sub.webhookUrl);
      assert.equal(sub.expiresAt, new Date(hook.expiresAtMs).toISOString());

      // The secret is stored sealed: the raw row never holds it in clear.
      const row = await t.hy.store.getTriggerSubscriptionById(sub.id);
      assert.ok(row?.secretSealed && !row.secretSealed.includes(hook.secret));

      const got = await t.api('GET', base(`/${sub.id}`), { key });
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, sub);
      const foreign = await t.api(
        'GET',
        `/api/v1/projects/${otherProjectId}/trigger-subscriptions/${sub.id}`,
        {
          key: otherKey,
        },
      );
      assert.equal(foreign.status, 404);
    });

    it('refuses bad input with the field named', async () => {
      const c = await credential('user-v', 'acct-v');
      const wrongParam = await subscribe(c.id, 'invoice');
      assert.equal(wrongParam.status, 400);
      assert.match(wrongParam.body.detail, /parameters\.object: expected one of "contact", "deal"/);
      const noType = await t.api('POST', base(), {
        key,
        body: { integration: 'fakecrm', type: 'nope', parameters: {}, credentialId: c.id },
      });
      assert.equal(noType.status, 400);
      assert.match(noType.body.detail, /type: fakecrm has no trigger "nope"/);
      const manual = await t.api('POST', base(), {
        key,
        body: { integration: 'fakecrm', type: 'record.created', credentialId: c.id },
      });
      assert.equal(manual.status, 400);
      assert.match(manual.body.detail, /setup manual/);
      const unknownCred = await subscribe('cred_nothere');
      assert.equal(unknownCred.status, 404);
    });

    it('a provider refusal stores the subscription ERRORED with the reason (201)', async () => {
      const c = await credential('user-r', 'acct-r');
      next.refuse = 403;
      const res = await subscribe(c.id);
      next.refuse = 0;
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'ERRORED');
      assert.match(res.body.error, /the provider answered 403: .*object not allowed/);
      assert.equal(res.body.providerSubscriptionId, null);
      const listed = await t.api('GET', `${base()}?status=ERRORED&credentialId=${c.id}`, { key });
      assert.deepEqual(
        listed.body.items.map((s: { id: string }) => s.id),
        [res.body.id],
      );
    });

    it('a credential whose refresh the provider refuses leaves the subscription ERRORED (needs re-auth)', async () => {
      const c = await credential('user-x', 'acct-x', new Date(Date.now() - 1000).toISOString());
      provider.revokeRefreshToken(c.tokens.refresh_token);
      const res = await subscribe(c.id);
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'ERRORED');
      assert.match(res.body.error, /needs re-auth/);
    });

    it('lists with filters, only the project’s own', async () => {
      const c = await credential('user-l', 'acct-l');
      const s1 = (await subscribe(c.id, 'contact')).body;
      const s2 = (await subscribe(c.id, 'deal')).body;
      const mine = await t.api('GET', `${base()}?userId=user-l&type=record.changed&integration=fakecrm`, {
        key,
      });
      assert.deepEqual(mine.body.items.map((s: { id: string }) => s.id).sort(), [s1.id, s2.id].sort());
      const other = await t.api('GET', `/api/v1/projects/${otherProjectId}/trigger-subscriptions`, {
        key: otherKey,
      });
      assert.deepEqual(other.body.items, []);
      const crossKey = await t.api('GET', base(), { key: otherKey });
      assert.equal(crossKey.status, 404);
    });

    it('delete unsubscribes at the provider; a teardown failure is a warning', async () => {
      const c = await credential('user-d', 'acct-d');
      const sub = (await subscribe(c.id)).body;
      const res = await t.api('DELETE', base(`/${sub.id}`), { key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { id: sub.id, deleted: true, warnings: [] });
      assert.equal(hooks.has(sub.providerSubscriptionId), false);
      const del = requestsTo('DELETE', `/webhooks/${sub.providerSubscriptionId}`);
      assert.equal(del.length, 1);
      assert.equal(del[0]?.headers.authorization, `Bearer ${c.tokens.access_token}`);
      assert.equal((await t.api('GET', base(`/${sub.id}`), { key })).status, 404);

      const broken = (await subscribe(c.id)).body;
      const row = await t.hy.store.getTriggerSubscriptionById(broken.id);
      assert.ok(row);
      await t.hy.store.updateTriggerSubscriptionState(row.id, {
        ...row,
        providerSubscriptionId: 'broken',
        nowMs: Date.now(),
      });
      const warned = await t.api('DELETE', base(`/${broken.id}`), { key });
      assert.equal(warned.status, 200);
      assert.equal(warned.body.deleted, true);
      assert.match(warned.body.warnings[0], /not removed at the provider: the provider answered 500/);
    });

    it('deleting the credential unsubscribes its subscriptions at the provider', async () => {
      const c = await credential('user-c', 'acct-c');
      const s1 = (await subscribe(c.id, 'contact')).body;
      const s2 = (await subscribe(c.id, 'deal')).body;
      const res = await t.api('DELETE', `/api/v1/projects/${projectId}/credentials/${c.id}`, { key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.warnings, []);
      assert.equal(hooks.has(s1.providerSubscriptionId), false);
      assert.equal(hooks.has(s2.providerSubscriptionId), false);
      assert.equal((await t.api('GET', base(`/${s1.id}`), { key })).status, 404);
    });

    it('an event at the subscription’s URL, signed with the provider’s secret, becomes a message; a forged one is refused', async () => {
      const c = await credential('user-e', 'acct-e');
      const sub = (await subscribe(c.id)).body;
      const hook = hooks.get(sub.providerSubscriptionId);
      assert.ok(hook);
      const body = JSON.stringify({ type: 'contact.updated', id: 'evt-1', contact: { id: 7 } });
      const send = (signature: string) =>
        fetch(`${t.url}/in/${sub.id}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-fake-signature': signature },
          body,
        });
      const forged = await send(createHmac('sha256', 'not-the-secret').update(body).digest('hex'));
      assert.equal(forged.status, 401);
      assert.equal(((await forged.json()) as { code: string }).code, 'signature_invalid');
      assert.equal((await t.api('GET', base(`/${sub.id}`), { key })).body.dateLastReceivedEvent, null);

      const res = await send(createHmac('sha256', hook.secret).update(body).digest('hex'));
      assert.equal(res.status, 202);
      const { messageId } = (await res.json()) as { messageId: string };
      const message = await t.api('GET', `/api/v1/projects/${projectId}/messages/${messageId}`, { key });
      assert.equal(message.status, 200, JSON.stringify(message.body));
      assert.equal(message.body.eventType, 'fakecrm.record.changed');
      assert.equal(message.body.userId, 'user-e');
      assert.equal(message.body.credentialId, c.id);
      const p = message.body.payload;
      assert.equal(p.userId, 'user-e');
      assert.equal(p.integration, 'fakecrm');
      assert.equal(p.triggerType, 'record.changed');
      assert.equal(p.triggerSubscriptionId, sub.id);
      assert.equal(p.credentialId, c.id);
      assert.equal(p.projectId, projectId);
      assert.deepEqual(p.payload, JSON.parse(body));
      assert.ok(Date.parse(p.dateReceived) > 0);
      const after = (await t.api('GET', base(`/${sub.id}`), { key })).body;
      assert.equal(after.dateLastReceivedEvent, p.dateReceived);

      const unknown = await fetch(`${t.url}/in/sub_0000000000000000000000`, {
        method: 'POST',
        body,
      });
      assert.equal(unknown.status, 404);
    });

    it('renews a subscription about to expire, re-subscribes one the provider lost, errors on a refusal', async () => {
      const c = await credential('user-n', 'acct-n');
      next.expiresInMs = 10 * 60_000; // within beforeExpirySeconds (1 h): due at once
      const sub = (await subscribe(c.id)).body;
      next.expiresInMs = 2 * 86_400_000;
      const renewedAt = await waitFor(async () => {
        const got = (await t.api('GET', base(`/${sub.id}`), { key })).body;
        return Date.parse(got.expiresAt) > Date.now() + 86_400_000 ? got : null;
      }, 'the renewal');
      assert.equal(renewedAt.status, 'ACTIVE');
      assert.equal(renewedAt.providerSubscriptionId, sub.providerSubscriptionId);
      assert.ok(requestsTo('PATCH', `/webhooks/${sub.providerSubscriptionId}`).length >= 1);

      // The provider lost it (410 on renew): a new webhook is created for the same subscription.
      next.expiresInMs = 10 * 60_000;
      const lost = (await subscribe(c.id, 'deal')).body;
      next.expiresInMs = 2 * 86_400_000;
      hooks.delete(lost.providerSubscriptionId);
      const again = await waitFor(async () => {
        const got = (await t.api('GET', base(`/${lost.id}`), { key })).body;
        return got.providerSubscriptionId !== lost.providerSubscriptionId ? got : null;
      }, 'the re-subscribe');
      assert.equal(again.status, 'ACTIVE');
      assert.equal(hooks.get(again.providerSubscriptionId)?.target, lost.webhookUrl);

      // A refusal on renew: ERRORED with the reason, and left alone afterwards.
      next.expiresInMs = 10 * 60_000;
      const refused = (await subscribe(c.id)).body;
      next.expiresInMs = 2 * 86_400_000;
      next.renewStatus = 403;
      const errored = await waitFor(async () => {
        const got = (await t.api('GET', base(`/${refused.id}`), { key })).body;
        return got.status === 'ERRORED' ? got : null;
      }, 'the refusal');
      next.renewStatus = 200;
      assert.match(errored.error, /the provider answered 403/);
    });
  });
}
