import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`projects and API keys over HTTP (${kind})`, () => {
    let t: TestHookyard;
    before(async () => {
      t = await startTestHookyard(kind);
    });
    after(async () => {
      await t.cleanup();
    });

    it('lets the operator create a project and an API key that then works', async () => {
      const created = await t.api('POST', '/api/v1/projects', { body: { name: 'Acme' } });
      assert.equal(created.status, 201);
      assert.match(created.body.id, /^prj_[0-9a-z]+$/);
      assert.equal(created.body.name, 'Acme');
      assert.ok(created.body.signingPublicKey.length > 20);

      const key = await t.api('POST', `/api/v1/projects/${created.body.id}/api-keys`, {
        body: { name: 'ci' },
      });
      assert.equal(key.status, 201);
      assert.match(key.body.key, /^hyk_/);
      assert.match(key.body.id, /^key_/);

      const own = await t.api('GET', `/api/v1/projects/${created.body.id}`, { key: key.body.key });
      assert.equal(own.status, 200);
      assert.equal(own.body.id, created.body.id);

      const listed = await t.api('GET', `/api/v1/projects/${created.body.id}/api-keys`, {
        key: key.body.key,
      });
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.body.items.map((k: { id: string }) => k.id),
        [key.body.id],
      );
      assert.equal(JSON.stringify(listed.body).includes(key.body.key), false, 'the key is never shown again');

      const mine = await t.api('GET', '/api/v1/projects', { key: key.body.key });
      assert.deepEqual(
        mine.body.items.map((p: { id: string }) => p.id),
        [created.body.id],
      );

      const revoked = await t.api('DELETE', `/api/v1/projects/${created.body.id}/api-keys/${key.body.id}`);
      assert.equal(revoked.status, 204);
      const after = await t.api('GET', `/api/v1/projects/${created.body.id}`, { key: key.body.key });
      assert.equal(after.status, 401);
      assert.equal(after.body.code, 'unauthorized');
    });

    it('never shows one project to the key of another', async () => {
      const a = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body;
      const b = (await t.api('POST', '/api/v1/projects', { body: { name: 'B' } })).body;
      const keyA = (await t.api('POST', `/api/v1/projects/${a.id}/api-keys`, { body: {} })).body.key;
      const keyB = (await t.api('POST', `/api/v1/projects/${b.id}/api-keys`, { body: {} })).body;
      for (const [method, path] of [
        ['GET', `/api/v1/projects/${b.id}`],
        ['GET', `/api/v1/projects/${b.id}/api-keys`],
        ['POST', `/api/v1/projects/${b.id}/api-keys`],
        ['DELETE', `/api/v1/projects/${b.id}/api-keys/${keyB.id}`],
      ] as const) {
        const res = await t.api(method, path, { key: keyA, body: method === 'POST' ? {} : undefined });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.body.code, 'not_found');
        assert.equal(JSON.stringify(res.body).includes('"B"'), false);
      }
      const list = await t.api('GET', '/api/v1/projects', { key: keyA });
      assert.deepEqual(
        list.body.items.map((p: { id: string }) => p.id),
        [a.id],
      );
      const create = await t.api('POST', '/api/v1/projects', { key: keyA, body: { name: 'sneaky' } });
      assert.equal(create.status, 403);
      assert.equal(create.body.code, 'forbidden');
      // The key of B still works after A's attempts.
      assert.equal((await t.api('GET', `/api/v1/projects/${b.id}`, { key: keyB.key })).status, 200);
    });

    it('answers bad requests with a code and a detail', async () => {
      const noKey = await t.api('GET', '/api/v1/projects', { key: null });
      assert.equal(noKey.status, 401);
      assert.equal(noKey.body.code, 'unauthorized');
      assert.match(noKey.body.detail, /Bearer/);

      const wrongKey = await t.api('GET', '/api/v1/projects', { key: 'hyk_nope' });
      assert.equal(wrongKey.status, 401);

      const unknownRoute = await t.api('GET', '/api/v1/nothing-here');
      assert.equal(unknownRoute.status, 404);
      assert.equal(unknownRoute.body.code, 'route_not_found');

      const badJson = await t.api('POST', '/api/v1/projects', { rawBody: '{"name": ' });
      assert.equal(badJson.status, 400);
      assert.equal(badJson.body.code, 'invalid_json');

      const invalid = await t.api('POST', '/api/v1/projects', { body: { name: '' } });
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.code, 'validation_failed');
      assert.match(invalid.body.detail, /name/);

      const extra = await t.api('POST', '/api/v1/projects', { body: { name: 'x', color: 'red' } });
      assert.equal(extra.status, 400);
      assert.equal(extra.body.code, 'validation_failed');

      const wrongType = await t.api('POST', '/api/v1/projects', {
        rawBody: 'name=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(wrongType.status, 415);
      assert.equal(wrongType.body.code, 'unsupported_media_type');

      const missingProject = await t.api('GET', '/api/v1/projects/prj_00000000000000000000000');
      assert.equal(missingProject.status, 404);
      assert.equal(missingProject.body.code, 'not_found');

      const badLimit = await t.api('GET', '/api/v1/projects?limit=0');
      assert.equal(badLimit.status, 400);
      assert.equal(badLimit.body.code, 'validation_failed');
    });

    it('serves health, readiness and the OpenAPI document', async () => {
      assert.deepEqual((await t.api('GET', '/healthz', { key: null })).body, { status: 'ok' });
      assert.equal((await t.api('GET', '/readyz', { key: null })).body.store, kind);
      const doc = await t.api('GET', '/api/v1/openapi.json', { key: null });
      assert.equal(doc.status, 200);
      assert.equal(doc.body.openapi, '3.1.0');
      assert.ok(doc.body.paths['/api/v1/projects/{projectId}/api-keys'].post);
    });
  });
}
