import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CredentialId, newId, type ProjectId } from '../../src/domain/ids.ts';
import type { TriggerSubscriptionRecord } from '../../src/store/trigger-subscription-store.ts';
import { openTestStore, STORE_KINDS, seedProject, type TestStore } from '../helpers/stores.ts';

async function seedCredential(t: TestStore, projectId: ProjectId, account: string): Promise<CredentialId> {
  const id = newId('credential');
  await t.store.insertCredential({
    id,
    projectId,
    userId: 'user-1',
    integration: 'acme',
    providerAccountId: account,
    authType: 'oauth2',
    secretsSealed: 's',
    accessTokenExpiresAtMs: null,
    settingsSealed: 's',
    status: 'active',
    statusReason: null,
    version: 1,
    refreshLeaseOwner: null,
    refreshLeaseUntilMs: null,
    lastRefreshedAtMs: null,
    createdAtMs: 1000,
    updatedAtMs: 1000,
  });
  return id;
}

function subscription(
  projectId: ProjectId,
  credentialId: CredentialId,
  extra: Partial<TriggerSubscriptionRecord> = {},
): TriggerSubscriptionRecord {
  return {
    id: newId('triggerSubscription'),
    projectId,
    integration: 'acme',
    triggerType: 'record.created',
    credentialId,
    userId: 'user-1',
    parameters: { folder: 'inbox', n: 3 },
    status: 'PENDING',
    error: null,
    providerSubscriptionId: null,
    secretSealed: null,
    saved: {},
    expiresAtMs: null,
    webhookOverride: null,
    createdAtMs: 1000,
    updatedAtMs: 1000,
    lastReceivedEventAtMs: null,
    ...extra,
  };
}

for (const kind of STORE_KINDS) {
  describe(`trigger subscription store contract (${kind})`, () => {
    let t: TestStore;
    let a: ProjectId;
    let b: ProjectId;
    let credA: CredentialId;
    let credA2: CredentialId;
    let credB: CredentialId;
    before(async () => {
      t = await openTestStore(kind);
      a = await seedProject(t.store);
      b = await seedProject(t.store);
      credA = await seedCredential(t, a, 'acct-1');
      credA2 = await seedCredential(t, a, 'acct-2');
      credB = await seedCredential(t, b, 'acct-1');
    });
    after(async () => {
      await t.cleanup();
    });

    it('inserts and reads back exactly, within its project only', async () => {
      const s = subscription(a, credA, {
        webhookOverride: { url: 'https://x.example/h', headers: { 'x-a': '1' } },
        expiresAtMs: 9_000_000_000_000,
      });
      await t.store.insertTriggerSubscription(s);
      assert.deepEqual(await t.store.getTriggerSubscription(a, s.id), s);
      assert.deepEqual(await t.store.getTriggerSubscriptionById(s.id), s);
      assert.equal(await t.store.getTriggerSubscription(b, s.id), null);
    });

    it('lists by filter and pages in id order, never across projects', async () => {
      const p = await seedProject(t.store);
      const c1 = await seedCredential(t, p, 'x1');
      const c2 = await seedCredential(t, p, 'x2');
      // Ids made in one millisecond do not sort by creation: give each its own.
      const now = Date.now();
      const s1 = subscription(p, c1, { id: newId('triggerSubscription', now), status: 'ACTIVE' });
      const s2 = subscription(p, c2, {
        id: newId('triggerSubscription', now + 1),
        triggerType: 'record.deleted',
        userId: 'user-2',
      });
      const s3 = subscription(p, c1, {
        id: newId('triggerSubscription', now + 2),
        integration: 'other',
        status: 'ERRORED',
        error: 'no',
      });
      for (const s of [s1, s2, s3]) await t.store.insertTriggerSubscription(s);
      await t.store.insertTriggerSubscription(subscription(b, credB));
      const ids = async (f: Parameters<typeof t.store.listTriggerSubscriptions>[1]) =>
        (await t.store.listTriggerSubscriptions(p, f)).items.map((s) => s.id);
      assert.deepEqual(await ids({ limit: 10 }), [s1.id, s2.id, s3.id]);
      assert.deepEqual(await ids({ limit: 10, credentialId: c1 }), [s1.id, s3.id]);
      assert.deepEqual(await ids({ limit: 10, status: 'ERRORED' }), [s3.id]);
      assert.deepEqual(await ids({ limit: 10, userId: 'user-2' }), [s2.id]);
      assert.deepEqual(await ids({ limit: 10, triggerType: 'record.deleted' }), [s2.id]);
      assert.deepEqual(await ids({ limit: 10, integration: 'other' }), [s3.id]);
      const first = await t.store.listTriggerSubscriptions(p, { limit: 2 });
      assert.equal(first.nextCursor, s2.id);
      assert.deepEqual(await ids({ limit: 2, after: first.nextCursor ?? '' }), [s3.id]);
      assert.deepEqual(
        (await t.store.listTriggerSubscriptionsOfCredential(c1)).map((s) => s.id),
        [s1.id, s3.id],
      );
    });

    it('updates state, lists expiring ones (not ERRORED), moves the last event time forward only', async () => {
      const s = subscription(a, credA2);
      await t.store.insertTriggerSubscription(s);
      const updated = await t.store.updateTriggerSubscriptionState(s.id, {
        status: 'ACTIVE',
        error: null,
        providerSubscriptionId: 'hook-1',
        secretSealed: 'sealed',
        saved: { k: 'v' },
        expiresAtMs: 5000,
        nowMs: 2000,
      });
      assert.equal(updated?.providerSubscriptionId, 'hook-1');
      assert.deepEqual(updated?.saved, { k: 'v' });
      assert.equal(updated?.updatedAtMs, 2000);
      const expiring = await t.store.listTriggerSubscriptionsExpiring(6000, 100);
      assert.ok(expiring.some((e) => e.id === s.id));
      assert.ok(!(await t.store.listTriggerSubscriptionsExpiring(4000, 100)).some((e) => e.id === s.id));
      await t.store.updateTriggerSubscriptionState(s.id, {
        ...(updated as TriggerSubscriptionRecord),
        status: 'ERRORED',
        error: 'refused',
        nowMs: 3000,
      });
      assert.ok(!(await t.store.listTriggerSubscriptionsExpiring(6000, 100)).some((e) => e.id === s.id));
      await t.store.touchTriggerSubscriptionEvent(s.id, 7000);
      await t.store.touchTriggerSubscriptionEvent(s.id, 6000);
      assert.equal((await t.store.getTriggerSubscriptionById(s.id))?.lastReceivedEventAtMs, 7000);
      assert.equal(
        await t.store.updateTriggerSubscriptionState(newId('triggerSubscription'), {
          status: 'ACTIVE',
          error: null,
          providerSubscriptionId: null,
          secretSealed: null,
          saved: {},
          expiresAtMs: null,
          nowMs: 1,
        }),
        null,
      );
    });

    it('deletes within its project only; goes with its credential', async () => {
      const s = subscription(a, credA);
      await t.store.insertTriggerSubscription(s);
      assert.equal(await t.store.deleteTriggerSubscription(b, s.id), false);
      assert.equal(await t.store.deleteTriggerSubscription(a, s.id), true);
      assert.equal(await t.store.getTriggerSubscriptionById(s.id), null);
      const c = await seedCredential(t, a, 'acct-gone');
      const s2 = subscription(a, c);
      await t.store.insertTriggerSubscription(s2);
      assert.equal(await t.store.deleteCredential(a, c), true);
      assert.equal(await t.store.getTriggerSubscriptionById(s2.id), null);
    });
  });
}
