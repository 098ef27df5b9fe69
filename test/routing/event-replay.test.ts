import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

async function ingest(t: TestHookyard, sourceId: string, body: unknown): Promise<string> {
  const res = await fetch(`${t.url}/in/${sourceId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { id: string }).id;
}

for (const kind of STORE_KINDS) {
  describe(`replaying a stored event (${kind})`, () => {
    let t: TestHookyard;
    let receiver: TestReceiver;
    let projectId: string;
    let sourceId: string;
    const endpoints: Record<string, string> = {};
    before(async () => {
      t = await startTestHookyard(kind);
      receiver = await startReceiver();
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'replay' } })).body.id;
      for (const [name, eventTypes] of [
        ['a', []],
        ['b', ['custom.*']],
        ['stripe-only', ['stripe.*']],
      ] as const) {
        const res = await t.api('POST', `/api/v1/projects/${projectId}/endpoints`, {
          body: { url: `${receiver.url}/${name}`, eventTypes },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        endpoints[name] = res.body.id;
      }
      sourceId = (
        await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
          body: {
            verification: { type: 'none' },
            dedupe: { jsonPath: '$.id' },
            eventType: { jsonPath: '$.type' },
          },
        })
      ).body.id;
    });
    after(async () => {
      await t.cleanup();
      await receiver.close();
    });

    const paths = () => receiver.received.map((r) => r.path).sort();
    const replay = (eventId: string, body?: unknown) =>
      t.api(
        'POST',
        `/api/v1/projects/${projectId}/events/${eventId}/replay`,
        body === undefined ? {} : { body },
      );

    it('forwards it again as a new message, to every endpoint or to the one named', async () => {
      const eventId = await ingest(t, sourceId, { id: 'r1', type: 'order.created' });
      await receiver.waitFor(2, 10_000);
      assert.deepEqual(paths(), ['/a', '/b']);
      const first = JSON.parse(receiver.received[0]?.body ?? '{}');

      const all = await replay(eventId);
      assert.equal(all.status, 202, JSON.stringify(all.body));
      assert.equal(all.body.routingRequeued, false);
      assert.equal(all.body.deliveries, 2);
      assert.notEqual(all.body.messageId, first.webhookId, 'a new message');
      await receiver.waitFor(4, 10_000);
      const again = JSON.parse(receiver.received[3]?.body ?? '{}');
      assert.equal(again.eventType, 'custom.order.created');
      assert.equal(again.payload.eventId, eventId);
      assert.deepEqual(again.payload.body, { id: 'r1', type: 'order.created' });

      const one = await replay(eventId, { endpointId: endpoints.a });
      assert.equal(one.status, 202, JSON.stringify(one.body));
      assert.equal(one.body.deliveries, 1);
      await receiver.waitFor(5, 10_000);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(paths(), ['/a', '/a', '/a', '/b', '/b']);
    });

    it('answers what cannot be replayed with the reason', async () => {
      const eventId = await ingest(t, sourceId, { id: 'r2', type: 'order.created' });
      const unknownEvent = await replay('evt_nope');
      assert.equal(unknownEvent.status, 404);
      assert.match(unknownEvent.body.detail, /evt_nope/);
      const unknownEndpoint = await replay(eventId, { endpointId: 'ep_nope' });
      assert.equal(unknownEndpoint.status, 404);
      assert.match(unknownEndpoint.body.detail, /ep_nope/);
      const refused = await replay(eventId, { endpointId: endpoints['stripe-only'] });
      assert.equal(refused.status, 409);
      assert.match(refused.body.detail, /does not take event type "custom\.order\.created"/);
      const unknownField = await replay(eventId, { endpoint: endpoints.a });
      assert.equal(unknownField.status, 400);
      assert.equal(unknownField.body.code, 'validation_failed');

      const routed = (
        await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
          body: { verification: { type: 'none' }, routing: { jsonPath: '$.team' } },
        })
      ).body.id;
      const unrouted = await ingest(t, routed, { team: 'T-unbound' });
      for (let i = 0; i < 200; i++) {
        const e = await t.api('GET', `/api/v1/projects/${projectId}/events/${unrouted}`);
        if (e.body.status === 'unrouted') break;
        await new Promise((r) => setTimeout(r, 25));
      }
      const conflict = await replay(unrouted);
      assert.equal(conflict.status, 409);
      assert.match(conflict.body.detail, /unrouted.*bind its routing key to a tenant/);

      const otherProject = (await t.api('POST', '/api/v1/projects', { body: { name: 'other' } })).body.id;
      const elsewhere = await t.api('POST', `/api/v1/projects/${otherProject}/events/${eventId}/replay`);
      assert.equal(elsewhere.status, 404, 'an event is replayed only within its project');
    });
  });
}
