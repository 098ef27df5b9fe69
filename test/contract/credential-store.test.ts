import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CredentialId, newId, type ProjectId } from '../../src/domain/ids.ts';
import type { CredentialRecord, OAuthStateRecord } from '../../src/store/credential-store.ts';
import { openTestStore, STORE_KINDS, seedProject, type TestStore } from '../helpers/stores.ts';

function credential(projectId: ProjectId, extra: Partial<CredentialRecord> = {}): CredentialRecord {
  return {
    id: newId('credential'),
    projectId,
    userId: 'user-1',
    integration: 'acme',
    providerAccountId: 'acct-1',
    authType: 'oauth2',
    secretsSealed: 'sealed-1',
    accessTokenExpiresAtMs: 5000,
    settingsSealed: 'settings',
    status: 'active',
    statusReason: null,
    version: 1,
    refreshLeaseOwner: null,
    refreshLeaseUntilMs: null,
    lastRefreshedAtMs: null,
    createdAtMs: 1000,
    updatedAtMs: 1000,
    ...extra,
  };
}

function state(projectId: ProjectId, hash: string, expiresAtMs: number): OAuthStateRecord {
  return {
    stateHash: hash,
    projectId,
    userId: 'user-1',
    integration: 'acme',
    redirectUrl: 'https://app.example/done',
    codeVerifierSealed: 'v',
    settingsSealed: 's',
    expiresAtMs,
    createdAtMs: 1000,
  };
}

for (const kind of STORE_KINDS) {
  describe(`credential store contract (${kind})`, () => {
    let t: TestStore;
    let a: ProjectId;
    let b: ProjectId;
    before(async () => {
      t = await openTestStore(kind);
      a = await seedProject(t.store);
      b = await seedProject(t.store);
    });
    after(async () => {
      await t.cleanup();
    });

    it('inserts, reads back exactly, within its project only; one credential per user, integration and account', async () => {
      const c = credential(a);
      assert.equal(await t.store.insertCredential(c), true);
      assert.deepEqual(await t.store.getCredential(a, c.id), c);
      assert.deepEqual(await t.store.getCredentialById(c.id), c);
      assert.equal(await t.store.getCredential(b, c.id), null);
      assert.equal(await t.store.insertCredential(credential(a)), false, 'same account again');
      assert.equal(await t.store.insertCredential(credential(a, { userId: 'user-2' })), true);
      assert.equal(await t.store.insertCredential(credential(b)), true, 'another project');
      // Without an account id nothing conflicts.
      assert.equal(await t.store.insertCredential(credential(a, { providerAccountId: null })), true);
      assert.equal(await t.store.insertCredential(credential(a, { providerAccountId: null })), true);
      assert.deepEqual(await t.store.findCredentialByAccount(a, 'user-1', 'acme', 'acct-1'), c);
      assert.equal(await t.store.findCredentialByAccount(a, 'user-1', 'other', 'acct-1'), null);
    });

    it('lists by user and integration in pages, per project; deletes within its project', async () => {
      const p = await seedProject(t.store);
      const ids: CredentialId[] = [];
      for (let i = 0; i < 5; i++) {
        const c = credential(p, {
          id: newId('credential', 1000 + i),
          userId: i < 3 ? 'u-a' : 'u-b',
          integration: i % 2 === 0 ? 'acme' : 'zeta',
          providerAccountId: `acct-${i}`,
        });
        ids.push(c.id);
        await t.store.insertCredential(c);
      }
      const first = await t.store.listCredentials(p, { limit: 2 });
      assert.deepEqual(
        first.items.map((c) => c.id),
        ids.slice(0, 2),
      );
      const second = await t.store.listCredentials(p, { limit: 10, after: first.nextCursor ?? '' });
      assert.deepEqual(
        second.items.map((c) => c.id),
        ids.slice(2),
      );
      assert.equal(second.nextCursor, null);
      assert.deepEqual(
        (await t.store.listCredentials(p, { limit: 10, userId: 'u-a', integration: 'acme' })).items.map(
          (c) => c.id,
        ),
        [ids[0], ids[2]],
      );
      assert.equal((await t.store.listCredentials(b, { limit: 10, userId: 'u-a' })).items.length, 0);
      assert.equal(await t.store.deleteCredential(b, ids[0] as CredentialId), false);
      assert.equal(await t.store.deleteCredential(p, ids[0] as CredentialId), true);
      assert.equal(await t.store.getCredential(p, ids[0] as CredentialId), null);
    });

    it('a refresh lease goes to one claimant at a time; only its holder completes or fails it', async () => {
      const c = credential(a, { userId: 'lease', providerAccountId: null });
      await t.store.insertCredential(c);
      assert.equal(await t.store.claimCredentialRefresh(c.id, 1, 'p1', 2000, 32_000), true);
      assert.equal(await t.store.claimCredentialRefresh(c.id, 1, 'p2', 2000, 32_000), false, 'held');
      assert.equal(
        await t.store.claimCredentialRefresh(c.id, 2, 'p2', 40_000, 70_000),
        false,
        'stale version',
      );
      assert.equal(
        await t.store.completeCredentialRefresh(c.id, 'p2', {
          secretsSealed: 'x',
          accessTokenExpiresAtMs: 1,
          nowMs: 3,
        }),
        null,
      );
      const done = await t.store.completeCredentialRefresh(c.id, 'p1', {
        secretsSealed: 'sealed-2',
        accessTokenExpiresAtMs: 9000,
        nowMs: 3000,
      });
      assert.equal(done?.version, 2);
      assert.equal(done?.secretsSealed, 'sealed-2');
      assert.equal(done?.refreshLeaseOwner, null);
      assert.equal(done?.lastRefreshedAtMs, 3000);
      // An expired lease can be taken over.
      assert.equal(await t.store.claimCredentialRefresh(c.id, 2, 'p1', 4000, 5000), true);
      assert.equal(await t.store.claimCredentialRefresh(c.id, 2, 'p2', 6000, 36_000), true);
      assert.equal(await t.store.failCredentialRefresh(c.id, 'p1', 'needs_reauth', 'x', 7000), null);
      const failed = await t.store.failCredentialRefresh(c.id, 'p2', 'needs_reauth', 'invalid_grant', 7000);
      assert.equal(failed?.status, 'needs_reauth');
      assert.equal(failed?.statusReason, 'invalid_grant');
      assert.equal(failed?.version, 3);
      const back = await t.store.reconnectCredential(c.id, {
        secretsSealed: 'sealed-3',
        settingsSealed: 'settings-3',
        providerAccountId: 'acct-9',
        accessTokenExpiresAtMs: null,
        nowMs: 8000,
      });
      assert.equal(back?.status, 'active');
      assert.equal(back?.statusReason, null);
      assert.equal(back?.version, 4);
      assert.equal(back?.providerAccountId, 'acct-9');
    });

    it('an OAuth state is taken once, and not after it expired', async () => {
      await t.store.insertOAuthState(state(a, 'h1', 10_000));
      await t.store.insertOAuthState(state(a, 'h2', 10_000));
      await t.store.insertOAuthState(state(b, 'h3', 10_000));
      assert.equal(await t.store.countOAuthStates(a, 5000), 2);
      assert.equal(await t.store.countOAuthStates(a, 10_000), 0, 'expired ones do not count');
      const [x, y] = await Promise.all([
        t.store.takeOAuthState('h1', 5000),
        t.store.takeOAuthState('h1', 5000),
      ]);
      assert.equal([x, y].filter(Boolean).length, 1);
      assert.deepEqual(x ?? y, state(a, 'h1', 10_000));
      assert.equal(await t.store.takeOAuthState('h2', 10_000), null, 'expired');
      assert.equal(await t.store.takeOAuthState('nope', 1), null);
    });

    it('keeps connect settings per project', async () => {
      assert.equal(await t.store.getConnectSettings(a), null);
      await t.store.putConnectSettings({
        projectId: a,
        allowedRedirectOrigins: ['https://a.example'],
        updatedAtMs: 1,
      });
      await t.store.putConnectSettings({
        projectId: a,
        allowedRedirectOrigins: ['https://b.example'],
        updatedAtMs: 2,
      });
      assert.deepEqual(await t.store.getConnectSettings(a), {
        projectId: a,
        allowedRedirectOrigins: ['https://b.example'],
        updatedAtMs: 2,
      });
      assert.equal(await t.store.getConnectSettings(b), null);
    });
  });
}
