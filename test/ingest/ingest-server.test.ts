import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const githubSig = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const kind of STORE_KINDS) {
  describe(`receiving webhooks (${kind})`, () => {
    let t: TestHookyard;
    let projectId: string;
    before(async () => {
      t = await startTestHookyard(kind);
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'ingest' } })).body.id;
    });
    after(async () => {
      await t.cleanup();
    });

    const createSource = async (body: Record<string, unknown>) => {
      const res = await t.api('POST', `/api/v1/projects/${projectId}/sources`, { body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; ingestUrl: string };
    };
    const send = (
      path: string,
      init: { method?: string; headers?: Record<string, string>; body?: string | Buffer },
    ) => fetch(`${t.url}${path}`, { method: init.method ?? 'POST', headers: init.headers, body: init.body });
    const events = async (query = '') =>
      (await t.api('GET', `/api/v1/projects/${projectId}/events?limit=500${query}`)).body.items as any[];

    it('verifies, stores the exact bytes, answers 2xx after commit, and shows the event', async () => {
      const secret = 'It’s a Secret to Everybody';
      const source = await createSource({ name: 'gh', provider: 'github', secrets: [secret] });
      assert.equal(source.ingestUrl, `${t.config.publicBaseUrl}/in/${source.id}`);
      const body = '{"action":"opened","n":"\\u00e9"}';
      const res = await send(`/in/${source.id}`, {
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'issues',
          'x-github-delivery': 'd-1',
          'x-hub-signature-256': githubSig(secret, body),
          authorization: 'Bearer should-not-be-stored',
        },
        body,
      });
      assert.equal(res.status, 200);
      const ack = (await res.json()) as { id: string; duplicate: boolean };
      assert.equal(ack.duplicate, false);
      const shown = await t.api('GET', `/api/v1/projects/${projectId}/events/${ack.id}`);
      assert.equal(shown.status, 200);
      assert.equal(shown.body.body, body, 'byte-exact, escapes untouched');
      assert.equal(shown.body.providerEventId, 'd-1');
      assert.equal(shown.body.eventType, 'issues');
      assert.equal(shown.body.verification.ok, true);
      assert.equal(shown.body.jsonValid, true);
      assert.equal(shown.body.bodySha256, createHash('sha256').update(body).digest('hex'));
      assert.equal(shown.body.dedupeKey, 'id:d-1');
      assert.equal(shown.body.headers['x-github-delivery'], 'd-1');
      assert.equal(shown.body.headers.authorization, '[redacted]', 'credentials are not stored');
      const routed = await until(
        () => t.api('GET', `/api/v1/projects/${projectId}/events/${ack.id}`),
        (r) => r.body.routing.decided,
      );
      assert.equal(routed.body.routing.status, 'routed');
      assert.equal(routed.body.routing.tenantId, null);
    });

    it('rejects a bad or missing signature with 401 and stores nothing', async () => {
      const source = await createSource({ provider: 'github', secrets: ['s3cret'] });
      const body = '{"a":1}';
      const tampered = await send(`/in/${source.id}`, {
        headers: { 'x-hub-signature-256': githubSig('s3cret', '{"a":2}'), 'x-github-delivery': 'x' },
        body,
      });
      assert.equal(tampered.status, 401);
      const err = (await tampered.json()) as { code: string; detail: string };
      assert.equal(err.code, 'signature_invalid');
      assert.ok(err.detail.length > 0 && !err.detail.includes('s3cret'));
      const missing = await send(`/in/${source.id}`, { body });
      assert.equal(missing.status, 401);
      assert.equal((await events(`&sourceId=${source.id}`)).length, 0);
    });

    it('dedupes 50 concurrent copies of one delivery into one event and one routing job', async () => {
      // App-level routing, so each new event carries a routing job that must exist exactly once.
      const source = await createSource({
        provider: 'github',
        secrets: ['dup'],
        routing: { header: 'x-team' },
      });
      const body = '{"zen":"Keep it logically awesome."}';
      const headers = {
        'x-hub-signature-256': githubSig('dup', body),
        'x-github-delivery': 'same-delivery',
        'x-team': 'T9',
      };
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          send(`/in/${source.id}`, { headers, body }).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as any,
          })),
        ),
      );
      assert.ok(results.every((r) => r.status === 200));
      assert.equal(results.filter((r) => !r.body.duplicate).length, 1);
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
      const stored = await events(`&sourceId=${source.id}`);
      assert.equal(stored.length, 1);
      // One routing job: it is claimed once and decided once.
      const one = await until(
        () => t.api('GET', `/api/v1/projects/${projectId}/events/${stored[0].id}`),
        (r) => r.body.routing.decided,
      );
      assert.equal(one.body.routing.attempts, 1);
      assert.equal(one.body.routing.status, 'unrouted');
      assert.equal(one.body.routing.routingKey, 'T9');
    });

    it('answers 413 over the source limit, 404 for an unknown source, and keeps unparseable JSON raw', async () => {
      const small = await createSource({ verification: { type: 'none' }, maxBodyBytes: 64 });
      const big = await send(`/in/${small.id}`, {
        headers: { 'content-type': 'text/plain' },
        body: 'x'.repeat(65),
      });
      assert.equal(big.status, 413);
      assert.equal(((await big.json()) as any).code, 'payload_too_large');
      assert.equal((await events(`&sourceId=${small.id}`)).length, 0);

      const unknown = await send('/in/src_0000000000000000000000', { body: '{}' });
      assert.equal(unknown.status, 404);
      assert.equal(((await unknown.json()) as any).code, 'not_found');
      assert.equal((await send('/in/not-an-id', { body: '{}' })).status, 404);

      const bad = await send(`/in/${small.id}`, {
        headers: { 'content-type': 'application/json' },
        body: '{"a":',
      });
      assert.equal(bad.status, 200);
      const stored = await events(`&sourceId=${small.id}`);
      assert.equal(stored[0].jsonValid, false);

      const strict = await createSource({ verification: { type: 'none' }, requireJson: true });
      const rejected = await send(`/in/${strict.id}`, {
        headers: { 'content-type': 'application/json' },
        body: '{"a":',
      });
      assert.equal(rejected.status, 400);
      assert.equal(((await rejected.json()) as any).code, 'invalid_json');
      assert.equal((await events(`&sourceId=${strict.id}`)).length, 0);
    });

    it('routes app-level events by a payload value, parks unknown ones, and replays them when bound', async () => {
      const source = await createSource({
        verification: { type: 'none' },
        routing: { jsonPath: '$.team_id' },
        dedupe: { jsonPath: '$.event_id' },
      });
      for (const [team, id] of [
        ['T1', 'e1'],
        ['T1', 'e2'],
        ['T2', 'e3'],
      ]) {
        const r = await send(`/in/${source.id}`, {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ team_id: team, event_id: id }),
        });
        assert.equal(r.status, 200);
      }
      const parked = await until(
        () => events(`&sourceId=${source.id}&status=unrouted`),
        (x) => x.length === 3,
      );
      assert.equal(parked.length, 3);
      const bound = await t.api('POST', `/api/v1/projects/${projectId}/sources/${source.id}/tenants`, {
        body: { providerAccountId: 'T1', userId: 'user-42' },
      });
      assert.equal(bound.status, 201);
      assert.equal(bound.body.replayed, 2);
      const routed = await until(
        () => events(`&sourceId=${source.id}&status=routed`),
        (x) => x.length === 2,
      );
      assert.deepEqual(
        routed.map((e) => e.tenantId),
        [bound.body.tenant.id, bound.body.tenant.id],
      );
      assert.equal((await events(`&sourceId=${source.id}&status=unrouted`)).length, 1);
      assert.equal((await events(`&tenantId=${bound.body.tenant.id}`)).length, 2);
      // A later event for T1 routes at once.
      await send(`/in/${source.id}`, {
        headers: { 'content-type': 'application/json' },
        body: '{"team_id":"T1","event_id":"e4"}',
      });
      await until(
        () => events(`&tenantId=${bound.body.tenant.id}`),
        (x) => x.length === 3,
      );
      assert.equal((await events(`&tenantId=${bound.body.tenant.id}`)).length, 3);
    });

    it('routes user-level events to the credential the URL carries', async () => {
      const source = await createSource({ verification: { type: 'none' } });
      assert.equal((await send(`/in/${source.id}?id=cred_abc`, { body: 'one' })).status, 200);
      assert.equal((await send(`/in/${source.id}/cred_xyz`, { body: 'two' })).status, 200);
      assert.equal(
        (await send(`/in/${source.id}?id=${encodeURIComponent('bad id!')}`, { body: 'x' })).status,
        400,
      );
      const routed = await until(
        () => events(`&sourceId=${source.id}&status=routed`),
        (x) => x.length === 2,
      );
      assert.deepEqual(routed.map((e) => e.tenantId).sort(), ['cred_abc', 'cred_xyz']);
    });

    it('answers handshakes: Meta hub.challenge, Asana X-Hook-Secret (then verifies with it)', async () => {
      const meta = await createSource({
        provider: 'meta',
        secrets: ['app-secret'],
        handshake: { verifyToken: 'vt-123' },
      });
      const ok = await send(
        `/in/${meta.id}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=vt-123`,
        {
          method: 'GET',
        },
      );
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), '1158201444');
      const wrong = await send(`/in/${meta.id}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope`, {
        method: 'GET',
      });
      assert.ok(wrong.status === 401 || wrong.status === 403);

      const asana = await createSource({ provider: 'asana' });
      const hs = await send(`/in/${asana.id}`, {
        headers: { 'x-hook-secret': 'asana-handed-secret' },
        body: '',
      });
      assert.equal(hs.status, 200);
      assert.equal(hs.headers.get('x-hook-secret'), 'asana-handed-secret');
      const view = await t.api('GET', `/api/v1/projects/${projectId}/sources/${asana.id}`);
      assert.equal(view.body.secrets.length, 1);
      assert.equal(JSON.stringify(view.body).includes('asana-handed-secret'), false);
      const body = '{"events":[]}';
      const signed = await send(`/in/${asana.id}`, {
        headers: {
          'x-hook-signature': createHmac('sha256', 'asana-handed-secret').update(body).digest('hex'),
        },
        body,
      });
      assert.equal(signed.status, 200);
      // A second handshake cannot replace the secret now that one is live.
      const hijack = await send(`/in/${asana.id}`, { headers: { 'x-hook-secret': 'attacker' }, body: '' });
      assert.notEqual(hijack.status, 200);
    });

    it('answers 503 with Retry-After, never 2xx, when the store cannot commit', async () => {
      const source = await createSource({ verification: { type: 'none' } });
      // Warm the source cache, then take the database away underneath the server.
      assert.equal((await send(`/in/${source.id}`, { body: 'warm' })).status, 200);
      await t.hy.store.close();
      const res = await send(`/in/${source.id}`, { body: 'lost?' });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '5');
      assert.equal(((await res.json()) as any).code, 'store_unavailable');
    });
  });
}
