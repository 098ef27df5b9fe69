import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseEgressAllowList } from '../../src/delivery/egress-guard.ts';
import { createEndpointService, type EndpointService } from '../../src/delivery/endpoint-service.ts';
import { createPublisher, type Publisher } from '../../src/delivery/publisher.ts';
import { FakeClock } from '../../src/domain/clock.ts';
import type { ProjectId } from '../../src/domain/ids.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import type { NewMessage } from '../../src/store/delivery-store.ts';
import type { Store } from '../../src/store/store.ts';
import { openTestStore, STORE_KINDS, seedProject, type TestStore } from '../helpers/stores.ts';

// A publish batch is split into transactions of at most maxBatchDeliveries deliveries, so a
// fan-out does not hold the SQLite writer for one long transaction. No delivery worker runs here:
// what is checked is what the store holds after the publishes resolve.
for (const kind of STORE_KINDS) {
  describe(`publisher batches (${kind})`, () => {
    let t: TestStore;
    let endpoints: EndpointService;
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    /** The store, with every insertMessages call's message and delivery counts noted. */
    let counted: Store;
    let calls: Array<{ messages: number; deliveries: number }> = [];

    before(async () => {
      t = await openTestStore(kind);
      endpoints = createEndpointService({
        store: t.store,
        secrets: createSecretBox([{ id: 'k1', key: Buffer.alloc(32, 7) }]),
        clock,
        egressAllow: parseEgressAllowList(['127.0.0.1/32']),
      });
      const insert = t.store.insertMessages.bind(t.store);
      counted = Object.create(t.store) as Store;
      counted.insertMessages = (batch: readonly NewMessage[]) => {
        calls.push({
          messages: batch.length,
          deliveries: batch.reduce((n, m) => n + m.deliveries.length, 0),
        });
        return insert(batch);
      };
    });
    after(async () => {
      await t.cleanup();
    });

    async function projectWithEndpoints(n: number) {
      const projectId = await seedProject(t.store);
      for (let i = 0; i < n; i++) await endpoints.create(projectId, { url: `http://127.0.0.1:9/e${i}` });
      return projectId;
    }

    /**
     * Publishes `inputs` in one turn of the event loop (without a limit they would share one
     * transaction) through a publisher with `maxBatchDeliveries`, and waits for all of them.
     */
    async function publishTogether(
      maxBatchDeliveries: number,
      inputs: Array<Parameters<Publisher['publish']>[0]>,
    ) {
      const publisher = createPublisher({ store: counted, clock }, { maxBatchDeliveries });
      calls = [];
      const results = await Promise.all(inputs.map((input) => publisher.publish(input)));
      await publisher.close();
      return results;
    }

    const messages = (projectId: ProjectId, n: number) =>
      Array.from({ length: n }, (_, i) => ({ projectId, eventType: 'a.b', payload: { i } }));

    it('commits a fan-out in transactions of at most maxBatchDeliveries deliveries', async () => {
      const projectId = await projectWithEndpoints(3);
      const results = await publishTogether(7, messages(projectId, 5));
      assert.deepEqual(
        calls,
        [
          { messages: 2, deliveries: 6 },
          { messages: 2, deliveries: 6 },
          { messages: 1, deliveries: 3 },
        ],
        'two messages (6 deliveries) fit under 7; a third would make 9',
      );
      for (const r of results) {
        assert.equal(r.deliveries, 3);
        assert.equal(r.duplicate, false);
        const stored = await t.store.listMessageDeliveries(projectId, r.id);
        assert.equal(stored.length, 3, `message ${r.id} has its three deliveries`);
      }
      assert.equal(new Set(results.map((r) => r.id)).size, 5);
    });

    it('gives a message with more deliveries than the limit a transaction of its own', async () => {
      const projectId = await projectWithEndpoints(4);
      const results = await publishTogether(3, messages(projectId, 2));
      assert.deepEqual(calls, [
        { messages: 1, deliveries: 4 },
        { messages: 1, deliveries: 4 },
      ]);
      for (const r of results) assert.equal((await t.store.listMessageDeliveries(projectId, r.id)).length, 4);
    });

    it('keeps an idempotency key working across the split batches', async () => {
      const projectId = await projectWithEndpoints(2);
      const [a, b, c] = await publishTogether(2, [
        { projectId, eventType: 'a.b', payload: 1, idempotencyKey: 'k-1' },
        { projectId, eventType: 'a.b', payload: 2 },
        { projectId, eventType: 'a.b', payload: 1, idempotencyKey: 'k-1' },
      ]);
      assert.equal(calls.length, 3, 'one message a transaction');
      assert.ok(a && b && c);
      assert.equal(a.duplicate, false);
      assert.equal(c.duplicate, true, 'the second use of the key, in a later transaction, is a duplicate');
      assert.equal(c.id, a.id);
      assert.notEqual(b.id, a.id);
    });
  });
}
