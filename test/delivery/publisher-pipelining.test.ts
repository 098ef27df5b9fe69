import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPublisher, type PublishInput } from '../../src/delivery/publisher.ts';
import { FakeClock } from '../../src/domain/clock.ts';
import type { ProjectId } from '../../src/domain/ids.ts';
import type { NewMessage } from '../../src/store/delivery-store.ts';
import type { Store } from '../../src/store/store.ts';
import { openTestStore, STORE_KINDS, seedProject, type TestStore } from '../helpers/stores.ts';

// The publisher hands a second batch to the store while the first commits (one round trip less
// for the publishes that arrive during a commit), except where publish order must hold: a batch
// with an ordering key commits alone. The store's commits are held open here by a gate, so what
// is checked is which batches reach the store while another is still committing.
for (const kind of STORE_KINDS) {
  describe(`publisher batches in flight (${kind})`, () => {
    let t: TestStore;
    let projectId: ProjectId;
    const clock = new FakeClock(Date.UTC(2026, 0, 1));

    before(async () => {
      t = await openTestStore(kind);
      projectId = await seedProject(t.store);
    });
    after(async () => {
      await t.cleanup();
    });

    /** A store whose insertMessages calls are noted and wait for `open()` before they commit. */
    function gatedStore() {
      const started: Array<readonly NewMessage[]> = [];
      let opened = false;
      const waiting: Array<() => void> = [];
      const store = Object.create(t.store) as Store;
      store.insertMessages = async (batch: readonly NewMessage[]) => {
        started.push(batch);
        if (!opened) await new Promise<void>((resolve) => waiting.push(resolve));
        return t.store.insertMessages(batch);
      };
      return {
        store,
        started,
        open() {
          opened = true;
          for (const w of waiting.splice(0)) w();
        },
      };
    }

    /** Gives the publisher several turns of the event loop (it starts batches on setImmediate). */
    async function turns(): Promise<void> {
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 20));
    }

    const input = (payload: unknown, extra: Partial<PublishInput> = {}): PublishInput => ({
      projectId,
      eventType: 'a.b',
      payload,
      ...extra,
    });

    it('hands the next batch to the store while one commits, and no third', async () => {
      const gate = gatedStore();
      const publisher = createPublisher({ store: gate.store, clock });
      const first = publisher.publish(input(1));
      await turns();
      assert.equal(gate.started.length, 1);
      const second = publisher.publish(input(2));
      await turns();
      assert.equal(gate.started.length, 2, 'the second batch went to the store during the first commit');
      const third = publisher.publish(input(3));
      await turns();
      assert.equal(gate.started.length, 2, 'at most two batches commit at once');
      gate.open();
      const results = await Promise.all([first, second, third]);
      await publisher.close();
      assert.equal(gate.started.length, 3);
      for (const r of results) assert.ok(await t.store.getMessage(projectId, r.id), `${r.id} is stored`);
    });

    it('commits a batch with an ordering key alone, in publish order', async () => {
      const gate = gatedStore();
      const publisher = createPublisher({ store: gate.store, clock });
      const first = publisher.publish(input(1));
      await turns();
      const ordered = publisher.publish(input(2, { orderingKey: 'k' }));
      await turns();
      assert.equal(gate.started.length, 1, 'the ordered message waits for the batch in flight');
      gate.open();
      await first;
      await ordered;
      assert.equal(gate.started.length, 2);
      assert.equal(gate.started[1]?.[0]?.message.orderingKey, 'k');
      await publisher.close();
    });

    it('starts nothing beside a batch with an ordering key', async () => {
      const gate = gatedStore();
      const publisher = createPublisher({ store: gate.store, clock });
      const ordered = publisher.publish(input(1, { orderingKey: 'k' }));
      await turns();
      const next = publisher.publish(input(2, { orderingKey: 'k' }));
      const unordered = publisher.publish(input(3));
      await turns();
      assert.equal(gate.started.length, 1, 'the later publishes wait for the ordered batch');
      gate.open();
      const [a, b] = await Promise.all([ordered, next, unordered]);
      await publisher.close();
      assert.ok(a && b);
      assert.equal(gate.started.length, 2, 'the two that waited share the next batch');
      assert.deepEqual(
        gate.started[1]?.map((m) => m.message.id),
        [b.id, (await unordered).id],
        'in publish order',
      );
    });

    it('waits on close for every batch in flight', async () => {
      const gate = gatedStore();
      const publisher = createPublisher({ store: gate.store, clock });
      const a = publisher.publish(input(1));
      await turns();
      const b = publisher.publish(input(2));
      await turns();
      let closed = false;
      const closing = publisher.close().then(() => {
        closed = true;
      });
      await turns();
      assert.equal(closed, false, 'close waits for the commits in flight');
      gate.open();
      await closing;
      const [ra, rb] = await Promise.all([a, b]);
      assert.ok(await t.store.getMessage(projectId, ra.id));
      assert.ok(await t.store.getMessage(projectId, rb.id));
    });
  });
}
