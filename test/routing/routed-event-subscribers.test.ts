import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RoutedEvent, RoutedEventSubscriber } from '../../src/routing/routed-event-subscriber.ts';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function ingest(t: TestHookyard, sourceId: string, body: unknown): Promise<string> {
  const res = await fetch(`${t.url}/in/${sourceId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { id: string }).id;
}

async function project(t: TestHookyard, name: string): Promise<string> {
  return (await t.api('POST', '/api/v1/projects', { body: { name } })).body.id;
}

async function source(t: TestHookyard, projectId: string, extra: object = {}): Promise<string> {
  const res = await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
    body: { verification: { type: 'none' }, dedupe: { jsonPath: '$.id' }, ...extra },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

for (const kind of STORE_KINDS) {
  describe(`routed events go to every subscriber (${kind})`, () => {
    let t: TestHookyard;
    let receiver: TestReceiver;
    const got: RoutedEvent[] = [];
    const second: RoutedEventSubscriber = {
      name: 'second',
      hasFollowUp: () => true,
      async handle(routed) {
        got.push(routed);
      },
    };
    before(async () => {
      t = await startTestHookyard(kind, {}, { components: [{ routedEventSubscribers: [second] }] });
      receiver = await startReceiver();
    });
    after(async () => {
      await t.cleanup();
      await receiver.close();
    });

    it('hands a second subscriber every routed event, on a project with no endpoints too', async () => {
      const projectId = await project(t, 'no endpoints');
      const sourceId = await source(t, projectId);
      const ids = [];
      for (let i = 0; i < 20; i++) ids.push(await ingest(t, sourceId, { id: `e${i}` }));
      await until('20 events', () =>
        got.filter((r) => r.projectId === projectId).length >= 20 ? true : undefined,
      );
      const mine = got.filter((r) => r.projectId === projectId);
      assert.deepEqual(mine.map((r) => r.event.id).sort(), [...ids].sort());
      assert.ok(mine.every((r) => r.tenantId === null && r.event.sourceId === sourceId));
      // Routed and done; the forwarder, with no endpoint to forward to, made no message.
      await until('every routing job done', async () => {
        const events = await t.api('GET', `/api/v1/projects/${projectId}/events?limit=100`);
        return events.body.items.every((e: { routingState: string }) => e.routingState === 'done')
          ? true
          : undefined;
      });
      const messages = await t.api('GET', `/api/v1/projects/${projectId}/messages`);
      assert.deepEqual(messages.body.items, []);
    });

    it('hands it the tenant, once one is bound, alongside the forwarder', async () => {
      const projectId = await project(t, 'tenants');
      const endpoint = await t.api('POST', `/api/v1/projects/${projectId}/endpoints`, {
        body: { url: `${receiver.url}/tenants` },
      });
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      const sourceId = await source(t, projectId, { routing: { jsonPath: '$.team' } });
      const eventId = await ingest(t, sourceId, { id: 'u1', team: 'T9' });
      await until('the unrouted event', async () => {
        const e = await t.api('GET', `/api/v1/projects/${projectId}/events/${eventId}`);
        return e.body.status === 'unrouted' ? true : undefined;
      });
      assert.equal(
        got.filter((r) => r.event.id === eventId).length,
        0,
        'unrouted events go to no subscriber',
      );
      const bound = await t.api('POST', `/api/v1/projects/${projectId}/sources/${sourceId}/tenants`, {
        body: { providerAccountId: 'T9' },
      });
      assert.equal(bound.body.replayed, 1);
      const routed = await until('the bound event', () => got.find((r) => r.event.id === eventId));
      assert.equal(routed.tenantId, bound.body.tenant.id);
      const [delivered] = await receiver.waitFor(1, 10_000);
      assert.equal(JSON.parse(delivered?.body ?? '{}').payload.eventId, eventId);
    });
  });

  describe(`an event that arrives after an endpoint exists is forwarded to it (${kind})`, () => {
    let a: TestHookyard;
    let b: TestHookyard;
    let receiver: TestReceiver;
    before(async () => {
      a = await startTestHookyard(kind);
      // PostgreSQL: a second process on the same database. SQLite: one process owns the file.
      b =
        kind === 'postgres'
          ? await startTestHookyard(kind, { databaseUrl: a.config.databaseUrl, adminKey: a.adminKey })
          : a;
      receiver = await startReceiver();
    });
    after(async () => {
      if (b !== a) await b.cleanup();
      await a.cleanup();
      await receiver.close();
    });

    it('on every process, right away', async () => {
      const projectId = await project(a, 'late endpoint');
      const sourceId = await source(a, projectId);
      // The event before the endpoint: ingest on b has seen this project with nothing to forward to.
      const first = await ingest(b, sourceId, { id: 'before' });
      await until('the first event routed', async () => {
        const e = await a.api('GET', `/api/v1/projects/${projectId}/events/${first}`);
        return e.body.routing.decided ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 100));
      const endpoint = await a.api('POST', `/api/v1/projects/${projectId}/endpoints`, {
        body: { url: `${receiver.url}/late` },
      });
      assert.equal(endpoint.status, 201);
      const second = await ingest(b, sourceId, { id: 'after' });
      const [got] = await receiver.waitFor(1, 10_000);
      assert.equal(JSON.parse(got?.body ?? '{}').payload.eventId, second);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(receiver.received.length, 1, 'the event before the endpoint is not forwarded');
    });
  });
}

for (const kind of STORE_KINDS) {
  describe(`a subscriber that fails (${kind})`, () => {
    let t: TestHookyard;
    let receiver: TestReceiver;
    const failedOnce = new Set<string>();
    const took: string[] = [];
    const flaky: RoutedEventSubscriber = {
      name: 'flaky',
      hasFollowUp: () => false,
      async handle({ event }) {
        if (!failedOnce.has(event.id)) {
          failedOnce.add(event.id);
          throw new Error('not yet');
        }
        took.push(event.id);
      },
    };
    before(async () => {
      t = await startTestHookyard(kind, {}, { components: [{ routedEventSubscribers: [flaky] }] });
      receiver = await startReceiver();
    });
    after(async () => {
      await t.cleanup();
      await receiver.close();
    });

    it('gets the event again, and the other subscribers do not repeat what they did', async () => {
      const projectId = await project(t, 'flaky');
      const endpoint = await t.api('POST', `/api/v1/projects/${projectId}/endpoints`, {
        body: { url: `${receiver.url}/flaky` },
      });
      assert.equal(endpoint.status, 201);
      const sourceId = await source(t, projectId);
      const ids = [await ingest(t, sourceId, { id: 'f1' }), await ingest(t, sourceId, { id: 'f2' })];
      await until('both events, retried', () => (took.length === 2 ? true : undefined));
      assert.deepEqual([...took].sort(), [...ids].sort());
      const detail = await t.api('GET', `/api/v1/projects/${projectId}/events/${ids[0]}`);
      assert.equal(detail.body.routing.attempts, 2);
      await receiver.waitFor(2, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        receiver.received.map((r) => JSON.parse(r.body).payload.eventId).sort(),
        [...ids].sort(),
        'one message per event, though the forwarder ran twice',
      );
    });
  });
}
