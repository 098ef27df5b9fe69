import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const githubSig = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const kind of STORE_KINDS) {
  describe(`console API: refused requests, attempts, deliveries, test sender, stats (${kind})`, () => {
    let t: TestHookyard;
    let projectId: string;
    let key: string;
    let otherKey: string;
    let receiver: TestReceiver;
    const secret = 'gh-secret';
    let sourceId: string;
    before(async () => {
      t = await startTestHookyard(kind, { refusedPerSource: '5' });
      receiver = await startReceiver();
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
      key = (await t.api('POST', `/api/v1/projects/${projectId}/api-keys`, { body: {} })).body.key;
      const other = (await t.api('POST', '/api/v1/projects', { body: { name: 'B' } })).body.id;
      otherKey = (await t.api('POST', `/api/v1/projects/${other}/api-keys`, { body: {} })).body.key;
      sourceId = (
        await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
          key,
          body: { name: 'gh', provider: 'github', secrets: [secret], maxBodyBytes: 1024 },
        })
      ).body.id;
    });
    after(async () => {
      await receiver.close();
      await t.cleanup();
    });
    const p = (suffix: string) => `/api/v1/projects/${projectId}${suffix}`;

    it('lists refused requests per source with reason, metadata and body hash, never the body', async () => {
      const body = '{"secret-ish":"do not keep me"}';
      const bad = await fetch(`${t.url}/in/${sourceId}?token=abc`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': githubSig('wrong', body),
          'user-agent': 'GitHub-Hookshot/test',
        },
        body,
      });
      assert.equal(bad.status, 401);
      const big = await fetch(`${t.url}/in/${sourceId}`, { method: 'POST', body: 'x'.repeat(4096) });
      assert.equal(big.status, 413);
      const list = await until(
        () => t.api('GET', p(`/sources/${sourceId}/refused`), { key }),
        (r) => r.body.items?.length === 2,
      );
      assert.equal(list.status, 200, JSON.stringify(list.body));
      const [tooLarge, signature] = list.body.items;
      assert.equal(tooLarge.reasonCode, 'payload_too_large');
      assert.equal(tooLarge.status, 413);
      assert.equal(signature.reasonCode, 'signature_invalid');
      assert.equal(signature.status, 401);
      assert.equal(
        signature.path,
        `/in/${sourceId}`,
        'the query string (may carry a credential) is not kept',
      );
      assert.equal(signature.metadata['user-agent'], 'GitHub-Hookshot/test');
      assert.match(signature.metadata.headerNames, /x-hub-signature-256/);
      assert.equal(signature.bodyBytes, Buffer.byteLength(body));
      assert.match(signature.bodySha256, /^[0-9a-f]{64}$/);
      assert.equal(JSON.stringify(list.body).includes('do not keep me'), false);

      const other = await t.api('GET', p(`/sources/${sourceId}/refused`), { key: otherKey });
      assert.equal(other.status, 404, "another project's key sees nothing");
    });

    it('records a failed handshake with its reason', async () => {
      const slack = await t.api('POST', p('/sources'), {
        key,
        body: { name: 'slack', provider: 'slack', secrets: ['slack-signing-secret'] },
      });
      assert.equal(slack.status, 201, JSON.stringify(slack.body));
      const res = await fetch(`${t.url}/in/${slack.body.id}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
          'x-slack-signature': 'v0=0000000000000000000000000000000000000000000000000000000000000000',
        },
        body: JSON.stringify({ type: 'url_verification', challenge: 'c-1' }),
      });
      assert.equal(res.status, 401);
      const list = await until(
        () => t.api('GET', p(`/sources/${slack.body.id}/refused`), { key }),
        (r) => r.body.items?.length === 1,
      );
      assert.equal(list.body.items[0]?.reasonCode, 'handshake_failed');
      assert.match(list.body.items[0]?.reason, /^slack-url-verification: /);
      assert.equal(list.body.items[0]?.status, 401);
    });

    it('keeps at most the configured number of refusals per source, newest first', async () => {
      for (let i = 0; i < 8; i++) {
        await fetch(`${t.url}/in/${sourceId}`, {
          method: 'POST',
          headers: { 'x-hub-signature-256': githubSig('wrong', `${i}`) },
          body: `${i}`,
        });
      }
      const list = await until(
        () => t.api('GET', p(`/sources/${sourceId}/refused?limit=100`), { key }),
        (r) => r.body.items?.[0]?.bodyBytes === 1 && r.body.items.length === 5,
      );
      assert.equal(list.body.items.length, 5);
    });

    it('sends an event type example to one endpoint and lists its attempts and deliveries by status', async () => {
      receiver.setDefault({ status: 200 });
      const ep = await t.api('POST', p('/endpoints'), {
        key,
        body: { url: `${receiver.url}/hooks`, eventTypes: ['never.matches'] },
      });
      assert.equal(ep.status, 201, JSON.stringify(ep.body));
      const noType = await t.api('POST', p(`/endpoints/${ep.body.id}/test`), {
        key,
        body: { eventType: 'order.created' },
      });
      assert.equal(noType.status, 404);
      assert.match(noType.body.detail, /not registered/);
      await t.api('POST', p('/event-types'), {
        key,
        body: { name: 'order.created', example: { orderId: 'o_1', total: 12 } },
      });
      const sent = await t.api('POST', p(`/endpoints/${ep.body.id}/test`), {
        key,
        body: { eventType: 'order.created' },
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      assert.match(sent.body.messageId, /^msg_/);
      assert.match(sent.body.deliveryId, /^dlv_/);
      const [got] = await receiver.waitFor(1);
      assert.deepEqual(JSON.parse(got?.body ?? '{}').payload, { orderId: 'o_1', total: 12 });

      const attempts = await until(
        () => t.api('GET', p(`/endpoints/${ep.body.id}/attempts?outcome=succeeded`), { key }),
        (r) => r.body.items?.length === 1,
      );
      assert.equal(attempts.status, 200, JSON.stringify(attempts.body));
      assert.equal(attempts.body.items[0].deliveryId, sent.body.deliveryId);
      assert.equal(attempts.body.items[0].statusCode, 200);
      const failedOnly = await t.api('GET', p(`/endpoints/${ep.body.id}/attempts?outcome=failed`), { key });
      assert.equal(failedOnly.body.items.length, 0);
      const future = await t.api(
        'GET',
        p(
          `/endpoints/${ep.body.id}/attempts?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
        ),
        { key },
      );
      assert.equal(future.body.items.length, 0);
      const badTime = await t.api('GET', p(`/endpoints/${ep.body.id}/attempts?from=yesterday`), { key });
      assert.equal(badTime.status, 400);
      assert.match(badTime.body.detail, /from/);

      const succeeded = await t.api('GET', p(`/deliveries?status=succeeded&endpointId=${ep.body.id}`), {
        key,
      });
      assert.equal(succeeded.status, 200, JSON.stringify(succeeded.body));
      assert.deepEqual(
        succeeded.body.items.map((d: { id: string }) => d.id),
        [sent.body.deliveryId],
      );
      const pending = await t.api('GET', p('/deliveries?status=pending'), { key });
      assert.equal(pending.body.items.length, 0);
      const badStatus = await t.api('GET', p('/deliveries?status=done'), { key });
      assert.equal(badStatus.status, 400);
      const otherKeyList = await t.api('GET', p('/deliveries'), { key: otherKey });
      assert.equal(otherKeyList.status, 404);
    });

    it('counts accepted, refused, delivered and failed per bucket with latency percentiles', async () => {
      const body = '{"zen":"x"}';
      const ok = await fetch(`${t.url}/in/${sourceId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': githubSig(secret, body) },
        body,
      });
      assert.equal(ok.status, 200);
      const stats = await t.api('GET', p('/stats?bucket=1h'), { key });
      assert.equal(stats.status, 200, JSON.stringify(stats.body));
      assert.equal(stats.body.buckets.length, 25);
      const sum = (f: string) => stats.body.buckets.reduce((n: number, b: any) => n + b[f], 0);
      assert.equal(sum('accepted'), 1);
      assert.ok(sum('refused') >= 5, `refused ${sum('refused')}`);
      assert.equal(sum('delivered'), 1);
      assert.equal(sum('failed'), 0);
      const withLatency = stats.body.buckets.find((b: any) => b.delivered > 0);
      assert.equal(typeof withLatency.latencyP50Ms, 'number');
      assert.ok(withLatency.latencyP99Ms >= withLatency.latencyP50Ms);
      const tooMany = await t.api('GET', p('/stats?bucket=1m&from=2020-01-01T00:00:00Z'), { key });
      assert.equal(tooMany.status, 400);
      assert.match(tooMany.body.detail, /bucket/);
    });
  });
}
