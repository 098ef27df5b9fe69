import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`endpoints API (${kind})`, () => {
    let t: TestHookyard;
    let projectId: string;
    let key: string;
    let otherProjectId: string;
    let otherKey: string;
    before(async () => {
      t = await startTestHookyard(kind);
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
      key = (await t.api('POST', `/api/v1/projects/${projectId}/api-keys`, { body: {} })).body.key;
      otherProjectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'B' } })).body.id;
      otherKey = (await t.api('POST', `/api/v1/projects/${otherProjectId}/api-keys`, { body: {} })).body.key;
    });
    after(async () => {
      await t.cleanup();
    });

    const path = (suffix = '') => `/api/v1/projects/${projectId}/endpoints${suffix}`;

    it('creates an endpoint, shows its secret once, and gets, lists, updates and deletes it', async () => {
      const created = await t.api('POST', path(), {
        key,
        body: {
          url: 'https://receiver.example/hooks',
          name: 'orders',
          eventTypes: ['invoice.*', 'customer.created'],
          headers: { 'X-Team': 'billing' },
          rateLimitPerSecond: 50,
          maxConcurrency: 4,
          timeoutMs: 5000,
        },
      });
      assert.equal(created.status, 201);
      assert.match(created.body.id, /^ep_/);
      assert.match(created.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.equal(created.body.status, 'active');
      assert.equal(created.body.signatureScheme, 'standard-webhooks');
      assert.equal(created.body.signatureHeader, null);
      assert.deepEqual(created.body.health.state, 'active');
      const id = created.body.id;

      const got = await t.api('GET', path(`/${id}`), { key });
      assert.equal(got.status, 200);
      assert.equal(got.body.url, 'https://receiver.example/hooks');
      assert.deepEqual(got.body.eventTypes, ['invoice.*', 'customer.created']);
      assert.deepEqual(
        got.body.headers,
        { 'X-Team': '[sealed]' },
        'header values are sealed and shown masked',
      );
      assert.equal(
        JSON.stringify(got.body).includes(created.body.secret),
        false,
        'the secret is never shown again',
      );
      assert.equal('secret' in got.body, false);

      const listed = await t.api('GET', path(), { key });
      assert.deepEqual(
        listed.body.items.map((e: { id: string }) => e.id),
        [id],
      );
      assert.equal(JSON.stringify(listed.body).includes(created.body.secret), false);

      const patched = await t.api('PATCH', path(`/${id}`), {
        key,
        body: {
          signatureScheme: 'standard-webhooks+hmac-sha256-hex',
          objectTypes: ['invoice'],
          rateLimitPerSecond: null,
          enabled: false,
        },
      });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.signatureHeader, 'X-Webhook-Signature');
      assert.deepEqual(patched.body.objectTypes, ['invoice']);
      assert.equal(patched.body.rateLimitPerSecond, null);
      assert.equal(patched.body.enabled, false);
      assert.equal(patched.body.status, 'disabled');
      assert.ok(patched.body.updatedAt >= created.body.updatedAt);

      const enabled = await t.api('POST', path(`/${id}/enable`), { key });
      assert.equal(enabled.status, 200);
      assert.equal(enabled.body.enabled, true);
      assert.equal(enabled.body.status, 'active');

      const deleted = await t.api('DELETE', path(`/${id}`), { key });
      assert.equal(deleted.status, 204);
      assert.equal((await t.api('GET', path(`/${id}`), { key })).status, 404);
      assert.equal((await t.api('DELETE', path(`/${id}`), { key })).status, 404);
    });

    it('imports a secret and rotates it with a grace period', async () => {
      const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
      const created = await t.api('POST', path(), { key, body: { url: 'https://r.example/', secret } });
      assert.equal(created.status, 201);
      assert.equal(created.body.secret, secret);
      const rotated = await t.api('POST', path(`/${created.body.id}/secret/rotate`), {
        key,
        body: { graceMs: 3_600_000 },
      });
      assert.equal(rotated.status, 200);
      assert.match(rotated.body.secret, /^whsec_/);
      assert.notEqual(rotated.body.secret, secret);
      assert.equal(rotated.body.previousSecretsExpireAt.length, 1);
      const expiresInMs = Date.parse(rotated.body.previousSecretsExpireAt[0]) - Date.now();
      assert.ok(expiresInMs > 3_500_000 && expiresInMs <= 3_600_000, `grace ends in ${expiresInMs} ms`);
      const immediate = await t.api('POST', path(`/${created.body.id}/secret/rotate`), {
        key,
        body: { graceMs: 0 },
      });
      assert.deepEqual(immediate.body.previousSecretsExpireAt, []);
      const bad = await t.api('POST', path(`/${created.body.id}/secret/rotate`), {
        key,
        body: { secret: 'whsec_short' },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'validation_failed');
      assert.match(bad.body.detail, /^secret: /);
    });

    it('answers validation errors with { code, detail } naming the field', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{}, /url/],
        [{ url: 'ftp://r.example/' }, /^url: .*scheme "ftp"/],
        [{ url: 'https://user:pw@r.example/' }, /^url: .*credentials/],
        [{ url: 'http://10.0.0.1/hook' }, /^url: deliveries to 10\.0\.0\.1 are blocked/],
        [{ url: 'https://r.example/', eventTypes: ['invoice.*.paid'] }, /^eventTypes: .*misplaced "\*"/],
        [{ url: 'https://r.example/', objectTypes: ['a b'] }, /^objectTypes: /],
        [
          { url: 'https://r.example/', headers: { 'Webhook-Id': 'x' } },
          /^headers: "Webhook-Id" is set by Hookyard/,
        ],
        [
          { url: 'https://r.example/', headers: { 'bad name': 'x' } },
          /^headers: "bad name" is not a valid header name/,
        ],
        [{ url: 'https://r.example/', timeoutMs: 5 }, /timeoutMs must be >= 100/],
        [{ url: 'https://r.example/', maxConcurrency: 0 }, /maxConcurrency/],
        [
          { url: 'https://r.example/', signatureScheme: 'md5' },
          /signatureScheme must be equal to one of the allowed values/,
        ],
        [
          {
            url: 'https://r.example/',
            signatureScheme: 'standard-webhooks+hmac-sha256-hex',
            signatureHeader: 'Content-Type',
          },
          /^signatureHeader: /,
        ],
        [{ url: 'https://r.example/', secret: 'nope' }, /^secret: endpoint secret must start with "whsec_"/],
        [{ url: 'https://r.example/', colour: 'red' }, /must NOT have additional properties/],
      ];
      for (const [body, detail] of cases) {
        const res = await t.api('POST', path(), { key, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.code, 'validation_failed', JSON.stringify(body));
        assert.match(res.body.detail, detail, JSON.stringify(res.body));
        assert.deepEqual(Object.keys(res.body).sort(), ['code', 'detail']);
      }
      const recover = await t.api('POST', path(`/ep_000000000abcdefghijklmn/recover`), {
        key,
        body: { since: 'yesterday' },
      });
      assert.equal(recover.status, 400);
      assert.match(recover.body.detail, /since/);
    });

    it("answers 404 for another project's endpoints and for unknown ids", async () => {
      const mine = (await t.api('POST', path(), { key, body: { url: 'https://r.example/' } })).body.id;
      const foreign = `/api/v1/projects/${otherProjectId}/endpoints/${mine}`;
      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { name: 'x' }],
        ['DELETE', undefined],
      ] as const) {
        const res = await t.api(method, foreign, { key: otherKey, ...(body ? { body } : {}) });
        assert.equal(res.status, 404, method);
        assert.equal(res.body.code, 'not_found');
      }
      for (const [suffix, body] of [
        ['/enable', undefined],
        ['/recover', { since: new Date().toISOString() }],
        ['/secret/rotate', {}],
      ] as const) {
        const res = await t.api('POST', `${foreign}${suffix}`, { key: otherKey, ...(body ? { body } : {}) });
        assert.equal(res.status, 404, suffix);
      }
      // The other project's key cannot even reach this project's list.
      assert.equal((await t.api('GET', path(), { key: otherKey })).status, 404);
      assert.equal((await t.api('GET', path('/not-an-id'), { key })).status, 404);
      assert.equal((await t.api('GET', path('/ep_000000000abcdefghijklmn'), { key })).status, 404);
      assert.equal((await t.api('GET', path(`/${mine}`), { key: null })).status, 401);
    });

    it('refuses to recover a disabled endpoint and recovers an enabled one', async () => {
      const id = (await t.api('POST', path(), { key, body: { url: 'https://r.example/', enabled: false } }))
        .body.id;
      const refused = await t.api('POST', path(`/${id}/recover`), {
        key,
        body: { since: '2020-01-01T00:00:00Z' },
      });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'conflict');
      await t.api('POST', path(`/${id}/enable`), { key });
      const ok = await t.api('POST', path(`/${id}/recover`), {
        key,
        body: { since: '2020-01-01T00:00:00Z' },
      });
      assert.equal(ok.status, 202);
      assert.equal(ok.body.queued, 0);
    });

    it('stores per-project delivery settings and validates them', async () => {
      const settingsPath = `/api/v1/projects/${projectId}/delivery-settings`;
      assert.deepEqual((await t.api('GET', settingsPath, { key })).body, {
        retryScheduleMs: null,
        egressAllow: null,
        updatedAt: null,
      });
      const put = await t.api('PUT', settingsPath, { key, body: { retryScheduleMs: [0, 1000, 60000] } });
      assert.equal(put.status, 200);
      assert.deepEqual(put.body.retryScheduleMs, [0, 1000, 60000]);
      const bad = await t.api('PUT', settingsPath, { key, body: { retryScheduleMs: [-1] } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.detail, /retryScheduleMs/);
      const badCidr = await t.api('PUT', settingsPath, { key, body: { egressAllow: ['not-a-cidr'] } });
      assert.equal(badCidr.status, 400);
      assert.match(badCidr.body.detail, /egress allow list/);
      assert.equal(
        (await t.api('GET', `/api/v1/projects/${projectId}/delivery-settings`, { key: otherKey })).status,
        404,
      );
    });
  });
}
