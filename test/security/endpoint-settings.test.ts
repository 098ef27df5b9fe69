import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

// Endpoint settings that could never be sent are refused; header values (where credentials for
// the receiver go) are sealed at rest and shown masked.

for (const kind of STORE_KINDS) {
  describe(`endpoint headers and signature header (${kind})`, () => {
    let t: TestHookyard;
    let receiver: TestReceiver;
    let projectId: string;
    before(async () => {
      t = await startTestHookyard(kind);
      receiver = await startReceiver();
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
    });
    after(async () => {
      await receiver.close();
      await t.cleanup();
    });
    /** The next request the receiver gets on `at`, after the `seen` it had there. */
    async function nextAt(at: string, seen: number) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const got = receiver.received.filter((r) => r.path === at);
        if (got.length > seen) return got[got.length - 1] as (typeof got)[number];
        assert.ok(Date.now() < deadline, `nothing arrived at ${at}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const countAt = (at: string) => receiver.received.filter((r) => r.path === at).length;
    const path = (suffix = '') => `/api/v1/projects/${projectId}/endpoints${suffix}`;

    it('refuses header values with characters HTTP forbids, naming the header', async () => {
      for (const value of ['a\u0001b', 'tab\tok\u007f', 'caf\u00e9 \u20ac', 'nul\u0000']) {
        const r = await t.api('POST', path(), {
          body: { url: `${receiver.url}/x`, headers: { 'X-Bad': value } },
        });
        assert.equal(r.status, 400, `${JSON.stringify(value)}: ${JSON.stringify(r.body)}`);
        assert.match(r.body.detail, /headers: the value of "X-Bad"/);
        assert.match(r.body.detail, /visible ASCII/);
      }
      const ok = await t.api('POST', path(), {
        body: { url: `${receiver.url}/x`, headers: { 'X-Ok': 'tab\tand spaces ~!' } },
      });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
    });

    it('refuses a signature header that is hop-by-hop or hookyard-*, saying why', async () => {
      for (const name of [
        'Connection',
        'Keep-Alive',
        'TE',
        'Trailer',
        'Transfer-Encoding',
        'Upgrade',
        'Proxy-Authorization',
        'Proxy-Connection',
        'Hookyard-Signature',
        'hookyard-x',
      ]) {
        const r = await t.api('POST', path(), {
          body: {
            url: `${receiver.url}/x`,
            signatureScheme: 'standard-webhooks+hmac-sha256-hex',
            signatureHeader: name,
          },
        });
        assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.body)}`);
        assert.match(r.body.detail, /^signatureHeader: /);
        assert.match(r.body.detail, new RegExp(`"${name}"`));
      }
    });

    it('seals header values at rest, shows them masked, and sends them in clear', async () => {
      const created = await t.api('POST', path(), {
        body: {
          url: `${receiver.url}/sealed`,
          headers: { Authorization: 'Bearer tok-secret-1', 'X-Team': 'billing' },
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.headers, { Authorization: '[sealed]', 'X-Team': '[sealed]' });
      const id = created.body.id;
      assert.deepEqual((await t.api('GET', path(`/${id}`))).body.headers, {
        Authorization: '[sealed]',
        'X-Team': '[sealed]',
      });
      const listed = (await t.api('GET', path())).body.items.find((e: { id: string }) => e.id === id);
      assert.deepEqual(listed.headers, { Authorization: '[sealed]', 'X-Team': '[sealed]' });

      const stored = await t.hy.store.getEndpoint(projectId as never, id);
      assert.ok(stored);
      assert.doesNotMatch(JSON.stringify(stored.headers), /tok-secret-1|billing/);
      assert.match(stored.headers.Authorization as string, /^hy1\./);

      const before = countAt('/sealed');
      const sent = await t.api('POST', `/api/v1/projects/${projectId}/messages`, {
        body: { eventType: 'a.b', payload: { n: 1 } },
      });
      assert.equal(sent.status, 202);
      const got = await nextAt('/sealed', before);
      assert.equal(got.headers.authorization, 'Bearer tok-secret-1');
      assert.equal(got.headers['x-team'], 'billing');

      // A PATCH that sends the masked value back keeps the stored one; a new value replaces it.
      const patched = await t.api('PATCH', path(`/${id}`), {
        body: { headers: { Authorization: '[sealed]', 'X-Team': 'payments' } },
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      const n = countAt('/sealed');
      await t.api('POST', `/api/v1/projects/${projectId}/messages`, {
        body: { eventType: 'a.b', payload: { n: 2 } },
      });
      const again = await nextAt('/sealed', n);
      assert.equal(again.headers.authorization, 'Bearer tok-secret-1');
      assert.equal(again.headers['x-team'], 'payments');

      const unknown = await t.api('PATCH', path(`/${id}`), { body: { headers: { 'X-New': '[sealed]' } } });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.detail, /X-New/);
      await t.api('DELETE', path(`/${id}`));
    });

    it('still sends header values stored before sealing, and masks them too', async () => {
      const created = await t.api('POST', path(), { body: { url: `${receiver.url}/plain` } });
      const id = created.body.id;
      const record = await t.hy.store.getEndpoint(projectId as never, id);
      assert.ok(record);
      // As a row written before header values were sealed.
      assert.equal(
        await t.hy.store.updateEndpoint({
          ...record,
          headers: { 'X-Legacy': 'old-plain' },
          updatedAtMs: record.updatedAtMs + 1,
        }),
        true,
      );
      assert.deepEqual((await t.api('GET', path(`/${id}`))).body.headers, { 'X-Legacy': '[sealed]' });
      const before = countAt('/plain');
      await t.api('POST', `/api/v1/projects/${projectId}/messages`, {
        body: { eventType: 'a.c', payload: {} },
      });
      assert.equal((await nextAt('/plain', before)).headers['x-legacy'], 'old-plain');
      await t.api('DELETE', path(`/${id}`));
    });
  });
}
