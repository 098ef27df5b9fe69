import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../../src/domain/clock.ts';
import type { RoutedEvent, RoutedEventSubscriber } from '../../src/routing/routed-event-subscriber.ts';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

/** More than one routing batch (500): the oldest pending batch is all such events. */
const DEEP_EVENTS = 501;
const deepJson = (i: number) => `${'['.repeat(10_000)}${i}${']'.repeat(10_000)}`;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function post(url: string, body: string | Buffer, contentType: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  assert.equal(res.status, 200, await res.text());
}

for (const kind of STORE_KINDS) {
  describe(`events that cannot be forwarded as they came (${kind})`, () => {
    let t: TestHookyard;
    let receiver: TestReceiver;
    before(async () => {
      t = await startTestHookyard(kind);
      receiver = await startReceiver();
    });
    after(async () => {
      await t.cleanup();
      await receiver.close();
    });

    it('do not hold up the events behind them, and are forwarded with their body in a form that fits', async () => {
      const projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'poison' } })).body.id;
      const endpoint = await t.api('POST', `/api/v1/projects/${projectId}/endpoints`, {
        body: { url: `${receiver.url}/hook` },
      });
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      const source = (
        await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
          body: { verification: { type: 'none' } },
        })
      ).body;
      const ingestUrl = `${t.url}/in/${source.id}`;
      // JSON nested 10,000 deep (a RangeError for whoever writes it again as JSON), then a binary
      // body whose base64 passes a message's 1 MiB, then an ordinary event.
      for (let i = 0; i < DEEP_EVENTS; i += 20) {
        await Promise.all(
          Array.from({ length: Math.min(20, DEEP_EVENTS - i) }, (_, j) =>
            post(ingestUrl, deepJson(i + j), 'application/json'),
          ),
        );
      }
      const binary = Buffer.alloc(1000 * 1000, 0xff);
      await post(ingestUrl, binary, 'application/octet-stream');
      await post(ingestUrl, JSON.stringify({ ordinary: true }), 'application/json');

      const payloads = () => receiver.received.map((r) => JSON.parse(r.body).payload);
      await until('the ordinary event', async () =>
        payloads().find((p) => p.body?.ordinary === true) ? true : undefined,
      );
      const big = await until('the binary event', async () => payloads().find((p) => p.bodyOmitted));
      assert.deepEqual(big.bodyOmitted, { reason: 'too_large', bytes: binary.length });
      assert.equal(big.bodyBase64, undefined);
      const deep = await until('a deep event', async () => payloads().find((p) => p.bodyText));
      assert.match(deep.bodyText, /^\[{10000}\d+\]{10000}$/);
      await until('every deep event', async () =>
        payloads().filter((p) => p.bodyText).length === DEEP_EVENTS ? true : undefined,
      );
    });
  });

  describe(`a routed event a subscriber can never take (${kind})`, () => {
    let t: TestHookyard;
    const clock = new FakeClock(Date.now());
    const taken: RoutedEvent[] = [];
    let refuse = true;
    const subscriber: RoutedEventSubscriber = {
      name: 'picky',
      hasFollowUp: () => true,
      async handle(routed) {
        if (refuse && routed.event.providerEventId?.startsWith('poison')) {
          throw new Error(`cannot take ${routed.event.providerEventId}`);
        }
        taken.push(routed);
      },
    };
    before(async () => {
      t = await startTestHookyard(
        kind,
        {},
        { clock, components: [{ routedEventSubscribers: [subscriber] }] },
      );
    });
    after(async () => {
      await t.cleanup();
    });

    it('is retried with backoff, set aside with its reason, never blocks others, and replays', async () => {
      const projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'picky' } })).body.id;
      const source = (
        await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
          body: { verification: { type: 'none' }, dedupe: { jsonPath: '$.id' } },
        })
      ).body;
      const send = (id: string) =>
        post(`${t.url}/in/${source.id}`, JSON.stringify({ id }), 'application/json');
      const eventOf = async (providerEventId: string) =>
        (await t.api('GET', `/api/v1/projects/${projectId}/events?providerEventId=${providerEventId}`)).body
          .items[0];
      const detail = async (providerEventId: string) =>
        (await t.api('GET', `/api/v1/projects/${projectId}/events/${(await eventOf(providerEventId)).id}`))
          .body;
      const took = (id: string) => taken.some((r) => r.event.providerEventId === id);

      await send('poison-1');
      await send('ok-1');
      await until('ok-1', async () => (took('ok-1') ? true : undefined));
      let attempts = 0;
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        const d = await detail('poison-1');
        if (d.routing.state === 'failed') break;
        if (d.routing.attempts > attempts && d.routing.lastError) {
          attempts = d.routing.attempts;
          assert.match(d.routing.lastError, /^picky: Error: cannot take poison-1$/);
          // The backoff holds the retry back while the clock stands still.
          await new Promise((r) => setTimeout(r, 1200));
          assert.equal((await detail('poison-1')).routing.attempts, attempts, 'not retried before its time');
          // Meanwhile other events go through at once.
          await send(`ok-after-${attempts}`);
          await until(`ok-after-${attempts}`, async () => (took(`ok-after-${attempts}`) ? true : undefined));
          clock.advance(2 * 60 * 60 * 1000);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const failed = await detail('poison-1');
      assert.equal(failed.routing.state, 'failed');
      assert.equal(failed.routing.attempts, 10);
      assert.match(failed.routing.lastError, /cannot take poison-1/);
      const listed = await t.api('GET', `/api/v1/projects/${projectId}/events?routingState=failed`);
      assert.deepEqual(
        listed.body.items.map((e: { providerEventId: string; routingState: string }) => [
          e.providerEventId,
          e.routingState,
        ]),
        [['poison-1', 'failed']],
      );

      refuse = false;
      const replay = await t.api('POST', `/api/v1/projects/${projectId}/events/${failed.id}/replay`);
      assert.equal(replay.status, 202, JSON.stringify(replay.body));
      assert.deepEqual(replay.body, {
        eventId: failed.id,
        routingRequeued: true,
        messageId: null,
        deliveries: null,
      });
      await until('the replayed event', async () => (took('poison-1') ? true : undefined));
      const done = await until('its routing job done', async () => {
        const d = await detail('poison-1');
        return d.routing.state === 'done' ? d : undefined;
      });
      assert.equal(done.routing.lastError, null);
      assert.equal(done.status, 'routed');
    });
  });
}
