import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';

// A source's own credential (the api-key header, the token query parameter) proves the request;
// it is not part of the event, so it is not kept with it, and the stored event says it was removed.

/** A request with the path exactly as given (fetch would normalise a malformed escape). */
function rawPost(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end('{"a":1}');
  });
}

for (const fastHttp of ['true', 'false']) {
  describe(`ingest credentials and bad paths (fast path ${fastHttp})`, () => {
    let t: TestHookyard;
    let projectId: string;
    before(async () => {
      t = await startTestHookyard('sqlite', { fastHttp });
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
    });
    after(async () => {
      await t.cleanup();
    });

    const createSource = async (body: Record<string, unknown>) => {
      const r = await t.api('POST', `/api/v1/projects/${projectId}/sources`, { body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as { id: string };
    };
    const event = async (id: string) =>
      (await t.api('GET', `/api/v1/projects/${projectId}/events/${id}`)).body;

    it("does not store an api-key source's own key header, and shows that it was redacted", async () => {
      const source = await createSource({
        name: 'k',
        verification: { type: 'api-key', header: 'X-Partner-Key' },
        secrets: ['k-secret-123456'],
      });
      const res = await rawPost(t.url, `/in/${source.id}`, {
        'x-partner-key': 'k-secret-123456',
        'x-other': 'kept',
      });
      assert.equal(res.status, 200, res.body);
      const shown = await event(JSON.parse(res.body).id);
      assert.equal(shown.headers['x-partner-key'], '[redacted]');
      assert.equal(shown.headers['x-other'], 'kept');
      assert.doesNotMatch(JSON.stringify(shown), /k-secret-123456/);
    });

    it("does not store a token source's query parameter", async () => {
      const source = await createSource({
        name: 't',
        verification: { type: 'token', query: 'token' },
        secrets: ['t-secret-654321'],
      });
      const res = await rawPost(t.url, `/in/${source.id}?a=1&token=t-secret-654321&b=2`);
      assert.equal(res.status, 200, res.body);
      const shown = await event(JSON.parse(res.body).id);
      assert.equal(shown.url, `/in/${source.id}?a=1&token=[redacted]&b=2`);
      assert.doesNotMatch(JSON.stringify(shown), /t-secret-654321/);
    });

    it('shows other credential headers as redacted rather than dropping them silently', async () => {
      const source = await createSource({ name: 'n', verification: { type: 'none' } });
      const res = await rawPost(t.url, `/in/${source.id}`, {
        authorization: 'Bearer nope-123',
        cookie: 'c=1',
      });
      assert.equal(res.status, 200, res.body);
      const shown = await event(JSON.parse(res.body).id);
      assert.equal(shown.headers.authorization, '[redacted]');
      assert.equal(shown.headers.cookie, '[redacted]');
    });

    it('answers 400 with a reason to a malformed percent-escape in the credential segment', async () => {
      const source = await createSource({ name: 'p', verification: { type: 'none' } });
      for (const bad of ['%E0%A4%A', '%', '%zz']) {
        const res = await rawPost(t.url, `/in/${source.id}/${bad}`);
        assert.equal(res.status, 400, `${bad}: ${res.body}`);
        const body = JSON.parse(res.body);
        assert.equal(body.code, 'validation_failed');
        assert.match(body.detail, /percent-escape/);
      }
    });
  });
}
