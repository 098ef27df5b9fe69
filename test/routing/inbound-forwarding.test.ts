import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

/** The way of one event, end to end: provider → /in → stored → routed → message → signed delivery. */
for (const kind of STORE_KINDS) {
  describe(`inbound events forwarded to endpoints (${kind})`, () => {
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

    it('delivers a routed event, tagged with its tenant, signed, once', async () => {
      const projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'fwd' } })).body.id;
      const endpoint = await t.api('POST', `/api/v1/projects/${projectId}/endpoints`, {
        body: { url: `${receiver.url}/hook`, eventTypes: ['custom.*'] },
      });
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      const source = (
        await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
          body: {
            verification: { type: 'none' },
            routing: { jsonPath: '$.team_id' },
            dedupe: { jsonPath: '$.event_id' },
            eventType: { jsonPath: '$.type' },
          },
        })
      ).body;
      await t.api('POST', `/api/v1/projects/${projectId}/sources/${source.id}/tenants`, {
        body: { providerAccountId: 'T1' },
      });
      const body = JSON.stringify({ team_id: 'T1', event_id: 'E1', type: 'message.posted', text: 'héllo' });
      for (let i = 0; i < 3; i++) {
        // The provider retries: one event, one message, one delivery.
        const res = await fetch(`${t.url}/in/${source.id}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        assert.equal(res.status, 200);
      }
      const [got] = await receiver.waitFor(1, 10_000);
      assert.ok(got);
      const wh = new Webhook(endpoint.body.secret);
      const envelope = wh.verify(got.body, {
        'webhook-id': String(got.headers['webhook-id']),
        'webhook-timestamp': String(got.headers['webhook-timestamp']),
        'webhook-signature': String(got.headers['webhook-signature']),
      }) as any;
      assert.equal(envelope.eventType, 'custom.message.posted');
      assert.equal(envelope.projectId, projectId);
      assert.ok(envelope.credentialId?.startsWith('tnt_'));
      assert.equal(envelope.payload.providerEventId, 'E1');
      assert.deepEqual(envelope.payload.body, JSON.parse(body));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(receiver.received.length, 1, 'delivered once');
    });
  });
}
