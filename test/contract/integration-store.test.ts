import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newId, type ProjectId, type SourceId } from '../../src/domain/ids.ts';
import type { IntegrationDefinitionRecord } from '../../src/store/integration-store.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';

function definition(projectId: ProjectId, key: string, name = key): IntegrationDefinitionRecord {
  return {
    projectId,
    key,
    definition: { key, name, auth: { type: 'none' }, triggers: [{ type: 'x', title: 'X' }] },
    createdAtMs: 1000,
    updatedAtMs: 1000,
  };
}

for (const kind of STORE_KINDS) {
  describe(`integration store contract (${kind})`, () => {
    let t: TestStore;
    let a: ProjectId;
    let b: ProjectId;
    before(async () => {
      t = await openTestStore(kind);
      a = newId('project');
      b = newId('project');
      for (const id of [a, b]) {
        await t.store.insertProject({
          id,
          name: id,
          signingPublicKey: 'pk',
          signingPrivateKeySealed: 's',
          createdAtMs: 1,
        });
      }
    });
    after(async () => {
      await t.cleanup();
    });

    it('inserts once per (project, key), reads back exactly, lists in key order, per project', async () => {
      assert.equal(await t.store.insertIntegrationDefinition(definition(a, 'zeta')), true);
      assert.equal(await t.store.insertIntegrationDefinition(definition(a, 'acme')), true);
      assert.equal(await t.store.insertIntegrationDefinition(definition(a, 'acme', 'again')), false);
      assert.equal(await t.store.insertIntegrationDefinition(definition(b, 'acme', 'b’s')), true);
      assert.deepEqual(await t.store.getIntegrationDefinition(a, 'acme'), definition(a, 'acme'));
      assert.equal((await t.store.getIntegrationDefinition(b, 'acme'))?.definition.name, 'b’s');
      assert.equal(await t.store.getIntegrationDefinition(b, 'zeta'), null);
      assert.deepEqual(
        (await t.store.listIntegrationDefinitions(a, 10)).map((d) => d.key),
        ['acme', 'zeta'],
      );
      assert.deepEqual(
        (await t.store.listIntegrationDefinitions(a, 1)).map((d) => d.key),
        ['acme'],
      );
    });

    it('updates and deletes only within the project; deleting takes the settings along', async () => {
      const changed = { ...definition(a, 'zeta', 'Zeta 2'), updatedAtMs: 2000 };
      assert.equal(await t.store.updateIntegrationDefinition({ ...changed, projectId: b }), false);
      assert.equal(await t.store.updateIntegrationDefinition(changed), true);
      assert.deepEqual(await t.store.getIntegrationDefinition(a, 'zeta'), changed);
      await t.store.putIntegrationSettings({
        projectId: a,
        key: 'zeta',
        settingsSealed: 'sealed-1',
        appSourceId: null,
        updatedAtMs: 3000,
      });
      assert.equal(await t.store.deleteIntegrationDefinition(b, 'zeta'), false);
      assert.equal(await t.store.deleteIntegrationDefinition(a, 'zeta'), true);
      assert.equal(await t.store.getIntegrationDefinition(a, 'zeta'), null);
      assert.equal(await t.store.getIntegrationSettings(a, 'zeta'), null);
      assert.equal(await t.store.deleteIntegrationDefinition(a, 'zeta'), false);
    });

    it('settings are upserted per (project, key), also for keys with no stored definition', async () => {
      const src = newId('source') as SourceId;
      await t.store.putIntegrationSettings({
        projectId: a,
        key: 'stripe',
        settingsSealed: 'one',
        appSourceId: null,
        updatedAtMs: 1,
      });
      await t.store.putIntegrationSettings({
        projectId: a,
        key: 'stripe',
        settingsSealed: 'two',
        appSourceId: src,
        updatedAtMs: 2,
      });
      await t.store.putIntegrationSettings({
        projectId: a,
        key: 'github',
        settingsSealed: 'g',
        appSourceId: null,
        updatedAtMs: 3,
      });
      assert.deepEqual(await t.store.getIntegrationSettings(a, 'stripe'), {
        projectId: a,
        key: 'stripe',
        settingsSealed: 'two',
        appSourceId: src,
        updatedAtMs: 2,
      });
      assert.equal(await t.store.getIntegrationSettings(b, 'stripe'), null);
      assert.deepEqual(
        (await t.store.listIntegrationSettings(a)).map((s) => s.key),
        ['github', 'stripe'],
      );
      assert.deepEqual(await t.store.listIntegrationSettings(b), []);
    });
  });
}
