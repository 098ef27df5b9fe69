import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_JSON_DEPTH } from '../../src/security/json-depth.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

// Input that once reached a 500: each is a 400 that says what was wrong.

for (const kind of STORE_KINDS) {
  describe(`bad input answers 400, not 500 (${kind})`, () => {
    let t: TestHookyard;
    let projectId: string;
    before(async () => {
      t = await startTestHookyard(kind);
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
    });
    after(async () => {
      await t.cleanup();
    });

    it('refuses a ?limit that is not a finite integer on every list', async () => {
      const lists = [
        '/api/v1/projects',
        `/api/v1/projects/${projectId}/endpoints`,
        `/api/v1/projects/${projectId}/sources`,
        `/api/v1/projects/${projectId}/events`,
        `/api/v1/projects/${projectId}/messages`,
      ];
      for (const list of lists) {
        for (const limit of ['Infinity', '1e309', '-Infinity', '-1e309']) {
          const r = await t.api('GET', `${list}?limit=${limit}`);
          assert.equal(r.status, 400, `${list}?limit=${limit}: ${JSON.stringify(r.body)}`);
          assert.equal(r.body.code, 'validation_failed');
          assert.match(r.body.detail, /limit/);
        }
        assert.equal((await t.api('GET', `${list}?limit=500`)).status, 200, list);
      }
    });

    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

    it('refuses a published payload nested deeper than the limit, naming it', async () => {
      for (const deep of [nested(10_000), nestedObject(10_000), nested(MAX_JSON_DEPTH + 1)]) {
        const r = await t.api('POST', `/api/v1/projects/${projectId}/messages`, {
          rawBody: `{"eventType":"a.b","payload":${deep}}`,
        });
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.code, 'validation_failed');
        assert.match(r.body.detail, new RegExp(`payload is nested more than ${MAX_JSON_DEPTH} levels deep`));
      }
      const ok = await t.api('POST', `/api/v1/projects/${projectId}/messages`, {
        rawBody: `{"eventType":"a.b","payload":${nested(MAX_JSON_DEPTH)}}`,
      });
      assert.equal(ok.status, 202, JSON.stringify(ok.body));
    });

    it('refuses an event type example nested deeper than the limit', async () => {
      const r = await t.api('POST', `/api/v1/projects/${projectId}/event-types`, {
        rawBody: `{"name":"a.b","example":${nestedObject(10_000)}}`,
      });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.detail, /example is nested more than/);
    });
  });
}
