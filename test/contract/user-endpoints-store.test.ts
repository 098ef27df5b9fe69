import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProjectId } from '../../src/domain/ids.ts';
import { openTestStore, STORE_KINDS, seedProject, type TestStore, testEndpoint } from '../helpers/stores.ts';

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
  });
}
