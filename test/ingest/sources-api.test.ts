import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../../src/domain/clock.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const sign = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

for (const kind of STORE_KINDS) {
  describe(`sources API (${kind})`, () => {
    let t: TestHookyard;
    let projectId: string;
    const clock = new FakeClock(Date.UTC(2026, 10, 24, 12));
    before(async () => {
      t = await startTestHookyard(kind, {}, { clock });
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'sources' } })).body.id;
    });
    after(async () => {
      await t.cleanup();
    });
    const base = () => `/api/v1/projects/${projectId}/sources`;

    it('never returns secret values, lists, updates and deletes', async () => {
      const created = await t.api('POST', base(), {
        body: { name: 'stripe', provider: 'stripe', secrets: ['whsec_topsecret'], toleranceSeconds: 600 },
      });
      assert.equal(created.status, 201);
      assert.match(created.body.id, /^src_/);
      assert.equal(created.body.ingestUrl, `${t.config.publicBaseUrl}/in/${created.body.id}`);
      assert.deepEqual(created.body.secrets, [{ position: 1, notAfter: null }]);
      const all = JSON.stringify((await t.api('GET', base())).body);
      assert.ok(all.includes(created.body.id));
      assert.equal(all.includes('topsecret'), false);
      const patched = await t.api('PATCH', `${base()}/${created.body.id}`, {
        body: { name: 'renamed', maxBodyBytes: 2048 },
      });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.name, 'renamed');
      assert.equal(patched.body.maxBodyBytes, 2048);
      assert.equal(patched.body.toleranceSeconds, 600);
      assert.equal((await t.api('DELETE', `${base()}/${created.body.id}`)).status, 204);
      assert.equal((await t.api('GET', `${base()}/${created.body.id}`)).status, 404);
      const gone = await fetch(`${t.url}/in/${created.body.id}`, { method: 'POST', body: '{}' });
      assert.equal(gone.status, 404);
    });

    it('explains what is wrong with a source', async () => {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [
          { provider: 'stripey' },
          /provider: "stripey" is not a preset; expected one of: standard-webhooks, svix, stripe/,
        ],
        [{}, /provider or verification is required.*"type": "none"/],
        [{ provider: 'github', verification: { type: 'none' } }, /either provider .* or verification/],
        [{ verification: { type: 'hmac' } }, /verification/],
        [{ provider: 'github', maxBodyBytes: 50 * 1024 * 1024 }, /maxBodyBytes/],
        [{ provider: 'github', routing: { jsonPath: 'team_id' } }, /routing/],
        [{ provider: 'github', routing: { header: 'a', jsonPath: '$.b' } }, /routing/],
        [{ provider: 'discord', publicKey: 'not-a-key' }, /publicKey|public key/i],
        [{ provider: 'github', publicUrl: 'https://x.example/hook?q=1' }, /publicUrl/],
        [{ provider: 'github', colour: 'blue' }, /colour|additional/],
      ];
      for (const [body, message] of cases) {
        const res = await t.api('POST', base(), { body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.code, 'validation_failed');
        assert.match(res.body.detail, message, JSON.stringify(body));
      }
    });

    it('rotates a secret: both verify until the old one expires', async () => {
      const created = await t.api('POST', base(), { body: { provider: 'github', secrets: ['old-secret'] } });
      const id = created.body.id;
      const keepUntil = new Date(clock.nowMs() + 3600_000).toISOString();
      const rotated = await t.api('POST', `${base()}/${id}/secrets/rotate`, {
        body: { secret: 'new-secret', keepExistingUntil: keepUntil },
      });
      assert.equal(rotated.status, 200);
      assert.deepEqual(rotated.body.secrets, [
        { position: 1, notAfter: null },
        { position: 2, notAfter: keepUntil },
      ]);
      const body = '{"zen":"Design for failure."}';
      const post = (secret: string, delivery: string) =>
        fetch(`${t.url}/in/${id}`, {
          method: 'POST',
          headers: { 'x-hub-signature-256': sign(secret, body), 'x-github-delivery': delivery },
          body,
        });
      assert.equal((await post('new-secret', 'a')).status, 200);
      assert.equal((await post('old-secret', 'b')).status, 200);
      clock.advance(3600_000 + 1);
      assert.equal((await post('old-secret', 'c')).status, 401);
      assert.equal((await post('new-secret', 'd')).status, 200);
    });

    it('keeps other projects out', async () => {
      const created = await t.api('POST', base(), { body: { verification: { type: 'none' } } });
      const other = (await t.api('POST', '/api/v1/projects', { body: { name: 'other' } })).body;
      const otherKey = (await t.api('POST', `/api/v1/projects/${other.id}/api-keys`, { body: {} })).body.key;
      for (const [method, p] of [
        ['GET', `${base()}/${created.body.id}`],
        ['PATCH', `${base()}/${created.body.id}`],
        ['DELETE', `${base()}/${created.body.id}`],
        ['GET', `/api/v1/projects/${projectId}/events`],
      ] as const) {
        const res = await t.api(method, p, {
          key: otherKey,
          body: method === 'PATCH' ? { name: 'x' } : undefined,
        });
        assert.equal(res.status, 404, `${method} ${p}`);
      }
      // The other project's own view has no trace of this source or its events.
      const own = await t.api('GET', `/api/v1/projects/${other.id}/sources/${created.body.id}`, {
        key: otherKey,
      });
      assert.equal(own.status, 404);
      const ownEvents = await t.api(
        'GET',
        `/api/v1/projects/${other.id}/events?sourceId=${created.body.id}`,
        { key: otherKey },
      );
      assert.deepEqual(ownEvents.body.items, []);
    });
  });
}
