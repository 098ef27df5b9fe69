import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newId, type ProjectId } from '../../src/domain/ids.ts';
import {
  openTestStore,
  STORE_KINDS,
  seedProject,
  type TestStore,
  testEndpoint,
  testMessage,
} from '../helpers/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`endpoints owned by users, store contract (${kind})`, () => {
    let t: TestStore;
    let projectId: ProjectId;
    let other: ProjectId;
    before(async () => {
      t = await openTestStore(kind);
      projectId = await seedProject(t.store);
      other = await seedProject(t.store);
    });
    after(async () => {
      await t.cleanup();
    });

    it("keeps an endpoint's user, lists by user, and gives the publisher each route's user", async () => {
      const shared = testEndpoint(projectId);
      const forA = testEndpoint(projectId, { userId: 'user-a' });
      const forB = testEndpoint(projectId, { userId: 'user-b' });
      const elsewhere = testEndpoint(other, { userId: 'user-a' });
      for (const e of [shared, forA, forB, elsewhere]) await t.store.insertEndpoint(e);
      assert.equal((await t.store.getEndpoint(projectId, forA.id))?.userId, 'user-a');
      assert.equal((await t.store.getEndpoint(projectId, shared.id))?.userId, null);
      const ids = async (filter?: { userId?: string | null }) =>
        (await t.store.listEndpoints(projectId, { limit: 10 }, filter)).items.map((e) => e.id);
      assert.deepEqual(await ids({ userId: 'user-a' }), [forA.id]);
      assert.deepEqual(await ids({ userId: 'user-c' }), []);
      assert.deepEqual(await ids({ userId: null }), [shared.id]);
      assert.deepEqual((await ids()).sort(), [shared.id, forA.id, forB.id].sort());
      const routes = await t.store.listEndpointRoutes(projectId);
      assert.deepEqual(Object.fromEntries(routes.map((r) => [r.id, r.userId])), {
        [shared.id]: null,
        [forA.id]: 'user-a',
        [forB.id]: 'user-b',
      });
      // The user stays with the endpoint when its configuration changes.
      assert.equal(
        await t.store.updateEndpoint({ ...forA, userId: null, name: 'renamed', updatedAtMs: 300 }),
        true,
      );
      assert.equal((await t.store.getEndpoint(projectId, forA.id))?.userId, 'user-a');
    });

    it("pages an endpoint's deliveries newest first with their attempts, in its project only", async () => {
      const endpoint = testEndpoint(projectId, { userId: 'user-p' });
      const sibling = testEndpoint(projectId);
      await t.store.insertEndpoint(endpoint);
      await t.store.insertEndpoint(sibling);
      const messages = [1000, 2000, 2000, 3000].map((createdAtMs) =>
        testMessage(projectId, [endpoint.id, sibling.id], { createdAtMs }),
      );
      // Deliveries take their creation time from the message.
      await t.store.insertMessages(messages);
      const claimed = await t.store.claimDueDeliveries({ limit: 50, nowMs: 10_000, leaseMs: 1000 });
      const first = claimed.find(
        (c) => c.messageId === messages[0]?.message.id && c.endpointId === endpoint.id,
      );
      assert.ok(first);
      await t.store.completeDeliveries([
        {
          deliveryId: first.id,
          status: 'succeeded',
          nextAttemptAtMs: 0,
          updatedAtMs: 10_000,
          lastFailureKind: null,
          attempt: {
            id: newId('attempt'),
            projectId,
            deliveryId: first.id,
            messageId: first.messageId,
            endpointId: first.endpointId,
            attemptNumber: 1,
            startedAtMs: 10_000,
            durationMs: 5,
            outcome: 'succeeded',
            statusCode: 204,
            errorKind: null,
            errorMessage: null,
            responseHeaders: {},
            responseBody: '',
            responseBodyTruncated: false,
            nextAttemptAtMs: null,
          },
        },
      ]);
      const seen: string[] = [];
      let after: string | undefined;
      for (let round = 0; round < 5; round++) {
        const page = await t.store.listEndpointDeliveries(projectId, endpoint.id, {
          limit: 3,
          ...(after !== undefined ? { after } : {}),
        });
        for (const d of page.items) {
          assert.equal(d.endpointId, endpoint.id);
          seen.push(d.messageId);
          if (d.id === first.id)
            assert.deepEqual(
              d.attempts.map((a) => a.statusCode),
              [204],
            );
          else assert.deepEqual(d.attempts, []);
        }
        if (page.nextCursor === null) break;
        after = page.nextCursor;
      }
      assert.equal(seen.length, 4);
      assert.equal(seen[0], messages[3]?.message.id);
      assert.equal(seen[3], messages[0]?.message.id);
      assert.deepEqual(
        new Set(seen.slice(1, 3)),
        new Set([messages[1]?.message.id, messages[2]?.message.id]),
      );
      assert.deepEqual((await t.store.listEndpointDeliveries(other, endpoint.id, { limit: 10 })).items, []);
    });
  });
}
