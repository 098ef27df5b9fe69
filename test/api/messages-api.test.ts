import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const kind of STORE_KINDS) {
  describe(`messages and event types API (${kind})`, () => {
    let t: TestHookyard;
    let receiver: TestReceiver;
    let projectId: string;
    let key: string;
    let otherProjectId: string;
    let otherKey: string;
    before(async () => {
      t = await startTestHookyard(kind);
      receiver = await startReceiver();
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
      key = (await t.api('POST', `/api/v1/projects/${projectId}/api-keys`, { body: {} })).body.key;
      otherProjectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'B' } })).body.id;
      otherKey = (await t.api('POST', `/api/v1/projects/${otherProjectId}/api-keys`, { body: {} })).body.key;
    });
    after(async () => {
      await t.cleanup();
      await receiver.close();
    });

    const p = (suffix: string) => `/api/v1/projects/${projectId}${suffix}`;

    it('publishes to every matching endpoint, delivers signed envelopes, and lists deliveries with attempts', async () => {
      const all = await t.api('POST', p('/endpoints'), { key, body: { url: `${receiver.url}/all` } });
      const invoices = await t.api('POST', p('/endpoints'), {
        key,
        body: { url: `${receiver.url}/invoices`, eventTypes: ['invoice.*'], objectTypes: ['invoice'] },
      });
      const customers = await t.api('POST', p('/endpoints'), {
        key,
        body: { url: `${receiver.url}/customers`, eventTypes: ['customer.created'] },
      });
      assert.equal(customers.status, 201);

      const published = await t.api('POST', p('/messages'), {
        key,
        body: {
          eventType: 'invoice.paid',
          payload: { id: 'in_1', objectType: 'invoice', amount: 4200 },
          credentialId: 'cred_abc',
          userId: 'user-7',
        },
      });
      assert.equal(published.status, 202);
      assert.match(published.body.id, /^msg_/);
      assert.equal(published.body.duplicate, false);
      assert.equal(published.body.deliveries, 2);

      const got = await receiver.waitFor(2);
      const byPath = new Map(got.map((r) => [r.path, r]));
      assert.deepEqual([...byPath.keys()].sort(), ['/all', '/invoices']);
      for (const [path, secret] of [
        ['/all', all.body.secret],
        ['/invoices', invoices.body.secret],
      ]) {
        const r = byPath.get(path);
        assert.ok(r);
        const verified = new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
        assert.deepEqual(verified, {
          webhookId: published.body.id,
          webhookPublishedAt: (verified as { webhookPublishedAt: string }).webhookPublishedAt,
          projectId,
          eventType: 'invoice.paid',
          payload: { id: 'in_1', objectType: 'invoice', amount: 4200 },
          credentialId: 'cred_abc',
          userId: 'user-7',
        });
        assert.equal(r.headers['webhook-id'], published.body.id);
        assert.equal(r.headers['hookyard-credential-id'], 'cred_abc');
        assert.equal(r.headers['hookyard-user-id'], 'user-7');
        assert.equal(r.headers['content-type'], 'application/json');
      }

      const deliveries = await eventually(
        () => t.api('GET', p(`/messages/${published.body.id}/deliveries`), { key }),
        (res) => res.body.items.every((d: { status: string }) => d.status === 'succeeded'),
      );
      assert.equal(deliveries.body.items.length, 2);
      for (const d of deliveries.body.items) {
        assert.equal(d.attemptCount, 1);
        assert.equal(d.attempts.length, 1);
        assert.equal(d.attempts[0].statusCode, 200);
        assert.equal(d.attempts[0].outcome, 'succeeded');
        assert.equal(d.attempts[0].responseBody, 'ok');
        assert.equal(d.attempts[0].responseHeaders['content-type'], 'text/plain');
      }

      const message = await t.api('GET', p(`/messages/${published.body.id}`), { key });
      assert.equal(message.status, 200);
      assert.deepEqual(message.body.payload, { id: 'in_1', objectType: 'invoice', amount: 4200 });
      assert.equal(message.body.objectType, 'invoice');
      assert.equal(message.body.credentialId, 'cred_abc');
    });

    it('returns the first message for a repeated idempotency key and creates nothing', async () => {
      const before = receiver.received.length;
      const body = { eventType: 'order.created', payload: { n: 1 }, idempotencyKey: 'order-1' };
      const first = await t.api('POST', p('/messages'), { key, body });
      const second = await t.api('POST', p('/messages'), { key, body: { ...body, payload: { n: 2 } } });
      assert.equal(second.status, 202);
      assert.equal(second.body.id, first.body.id);
      assert.equal(second.body.duplicate, true);
      assert.equal(second.body.deliveries, 0);
      await receiver.waitFor(before + 1);
      const listed = await t.api('GET', p('/messages?eventType=order.created'), { key });
      assert.deepEqual(
        listed.body.items.map((m: { id: string }) => m.id),
        [first.body.id],
      );
    });

    it('resends a message to all its endpoints or to one', async () => {
      const published = await t.api('POST', p('/messages'), {
        key,
        body: { eventType: 'invoice.voided', payload: { objectType: 'invoice' } },
      });
      const deliveries = await eventually(
        () => t.api('GET', p(`/messages/${published.body.id}/deliveries`), { key }),
        (res) =>
          res.body.items.length === 2 &&
          res.body.items.every((d: { status: string }) => d.status === 'succeeded'),
      );
      const count = receiver.received.length;
      const all = await t.api('POST', p(`/messages/${published.body.id}/resend`), { key, body: {} });
      assert.equal(all.status, 202);
      assert.equal(all.body.deliveryIds.length, 2);
      await receiver.waitFor(count + 2);
      await eventually(
        () => t.api('GET', p(`/messages/${published.body.id}/deliveries`), { key }),
        (res) =>
          res.body.items.every(
            (d: { attemptCount: number; status: string }) => d.attemptCount === 2 && d.status === 'succeeded',
          ),
      );
      const one = await t.api('POST', p(`/messages/${published.body.id}/resend`), {
        key,
        body: { endpointId: deliveries.body.items[0].endpointId },
      });
      assert.deepEqual(one.body.deliveryIds, [deliveries.body.items[0].id]);
      await receiver.waitFor(count + 3);
      // Every send of one message carries the same webhook-id, so receivers can deduplicate.
      assert.ok(receiver.received.slice(count).every((r) => r.headers['webhook-id'] === published.body.id));
      const unknownEndpoint = await t.api('POST', p(`/messages/${published.body.id}/resend`), {
        key,
        body: { endpointId: 'ep_000000000abcdefghijklmn' },
      });
      assert.equal(unknownEndpoint.status, 404);
    });

    it('registers event types with a description and an example and lists them', async () => {
      const created = await t.api('POST', p('/event-types'), {
        key,
        body: {
          name: 'invoice.paid',
          description: 'An invoice was paid',
          example: { id: 'in_1', amount: 100 },
        },
      });
      assert.equal(created.status, 200);
      assert.equal(created.body.name, 'invoice.paid');
      assert.deepEqual(created.body.example, { id: 'in_1', amount: 100 });
      await t.api('POST', p('/event-types'), { key, body: { name: 'customer.created' } });
      const listed = await t.api('GET', p('/event-types'), { key });
      assert.deepEqual(
        listed.body.items.map((e: { name: string }) => e.name),
        ['customer.created', 'invoice.paid'],
      );
      assert.equal(
        (await t.api('GET', p('/event-types/invoice.paid'), { key })).body.description,
        'An invoice was paid',
      );
      assert.equal((await t.api('GET', p('/event-types/nope'), { key })).status, 404);
      const bad = await t.api('POST', p('/event-types'), { key, body: { name: 'a..b' } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.detail, /name/);
      // Publishing an unregistered type is allowed.
      const unregistered = await t.api('POST', p('/messages'), {
        key,
        body: { eventType: 'never.registered', payload: null },
      });
      assert.equal(unregistered.status, 202);
    });

    it('answers validation errors naming the field', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ payload: {} }, /eventType/],
        [{ eventType: 'a.b' }, /payload/],
        [
          { eventType: 'a b', payload: {} },
          /^body\.eventType: "a b" is not allowed; expected an event type: .* such as invoice\.paid\.$/,
        ],
        [
          { eventType: 'a.*', payload: {} },
          /^body\.eventType: "a\.\*" is not allowed; expected an event type/,
        ],
        [{ eventType: 'a.b', payload: {}, idempotencyKey: '' }, /idempotencyKey/],
        [{ eventType: 'a.b', payload: {}, orderingKey: 'x'.repeat(300) }, /orderingKey/],
        [
          { eventType: 'a.b', payload: {}, extra: 1 },
          /^body: unknown field "extra"; the fields allowed are: eventType, payload, /,
        ],
      ];
      for (const [body, detail] of cases) {
        const res = await t.api('POST', p('/messages'), { key, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.code, 'validation_failed');
        assert.match(res.body.detail, detail, res.body.detail);
      }
      const notJson = await t.api('POST', p('/messages'), { key, rawBody: '{nope' });
      assert.equal(notJson.status, 400);
      assert.equal(notJson.body.code, 'invalid_json');
    });

    it("answers 404 for another project's messages", async () => {
      const published = await t.api('POST', p('/messages'), { key, body: { eventType: 'x.y', payload: 1 } });
      const foreign = `/api/v1/projects/${otherProjectId}/messages/${published.body.id}`;
      assert.equal((await t.api('GET', foreign, { key: otherKey })).status, 404);
      assert.equal((await t.api('GET', `${foreign}/deliveries`, { key: otherKey })).status, 404);
      assert.equal((await t.api('POST', `${foreign}/resend`, { key: otherKey, body: {} })).status, 404);
      assert.equal((await t.api('GET', p(`/messages/${published.body.id}`), { key: otherKey })).status, 404);
      assert.equal(
        (await t.api('POST', p('/messages'), { key: otherKey, body: { eventType: 'x.y', payload: 1 } }))
          .status,
        404,
      );
      assert.equal((await t.api('GET', p('/messages/msg_000000000abcdefghijklmn'), { key })).status, 404);
      assert.equal((await t.api('GET', p('/messages/garbage'), { key })).status, 404);
    });
  });
}
