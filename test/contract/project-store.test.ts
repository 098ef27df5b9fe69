import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newId } from '../../src/domain/ids.ts';
import type { ProjectRecord } from '../../src/store/store.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';

function project(name: string): ProjectRecord {
  return {
    id: newId('project'),
    name,
    signingPublicKey: 'pk',
    signingPrivateKeySealed: 'sealed',
    createdAtMs: 1000,
  };
}

for (const kind of STORE_KINDS) {
  describe(`project store contract (${kind})`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(kind);
    });
    after(async () => {
      await t.cleanup();
    });

    it('migrate is idempotent', async () => {
      assert.deepEqual(await t.store.migrate(), []);
    });

    it('inserts, reads and pages projects in id order', async () => {
      const a = project('a');
      await new Promise((r) => setTimeout(r, 2));
      const b = project('b');
      await new Promise((r) => setTimeout(r, 2));
      const c = project('c');
      for (const p of [c, a, b]) await t.store.insertProject(p);
      assert.deepEqual(await t.store.getProject(a.id), a);
      assert.equal(await t.store.getProject(newId('project')), null);
      const first = await t.store.listProjects({ limit: 2 });
      assert.deepEqual(
        first.items.map((p) => p.name),
        ['a', 'b'],
      );
      assert.ok(first.nextCursor);
      const second = await t.store.listProjects({ limit: 2, after: first.nextCursor });
      assert.deepEqual(
        second.items.map((p) => p.name),
        ['c'],
      );
      assert.equal(second.nextCursor, null);
      const only = await t.store.listProjects({ limit: 10, projectIds: [b.id] });
      assert.deepEqual(
        only.items.map((p) => p.id),
        [b.id],
      );
      assert.deepEqual((await t.store.listProjects({ limit: 10, projectIds: [] })).items, []);
    });

    it('finds API keys by hash until revoked, scoped by project', async () => {
      const p1 = project('k1');
      const p2 = project('k2');
      await t.store.insertProject(p1);
      await t.store.insertProject(p2);
      const key = {
        id: newId('apiKey'),
        projectId: p1.id,
        name: 'ci',
        keyHash: 'h'.repeat(64),
        keyHint: 'hyk_abc…',
        createdAtMs: 5,
        revokedAtMs: null,
      };
      await t.store.insertApiKey(key);
      assert.deepEqual(await t.store.findApiKeyByHash(key.keyHash), key);
      assert.deepEqual(
        (await t.store.listApiKeys(p1.id)).map((k) => k.id),
        [key.id],
      );
      assert.deepEqual(await t.store.listApiKeys(p2.id), []);
      assert.equal(await t.store.revokeApiKey(p2.id, key.id, 9), false, 'another project cannot revoke it');
      assert.equal(await t.store.revokeApiKey(p1.id, key.id, 9), true);
      assert.equal(await t.store.revokeApiKey(p1.id, key.id, 10), false, 'already revoked');
      assert.equal(await t.store.findApiKeyByHash(key.keyHash), null);
      assert.equal((await t.store.listApiKeys(p1.id))[0]?.revokedAtMs, 9);
    });

    it('rejects a duplicate key hash', async () => {
      const p = project('dup');
      await t.store.insertProject(p);
      const base = {
        projectId: p.id,
        name: 'x',
        keyHint: 'x',
        createdAtMs: 1,
        revokedAtMs: null,
        keyHash: 'd'.repeat(64),
      };
      await t.store.insertApiKey({ ...base, id: newId('apiKey') });
      await assert.rejects(t.store.insertApiKey({ ...base, id: newId('apiKey') }));
    });

    it('stores a setting only once', async () => {
      assert.equal(await t.store.getSetting('admin'), null);
      assert.equal(await t.store.putSettingIfAbsent('admin', 'one', 1), true);
      assert.equal(await t.store.putSettingIfAbsent('admin', 'two', 2), false);
      assert.equal(await t.store.getSetting('admin'), 'one');
      await t.store.putSetting('admin', 'three', 3);
      assert.equal(await t.store.getSetting('admin'), 'three');
    });

    it('answers ping', async () => {
      await t.store.ping();
    });
  });
}
