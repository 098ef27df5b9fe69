import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { SDK_PREFIX, type SdkModule, sdkUserOf } from '../../src/api/sdk-auth.ts';
import type { Component } from '../../src/main.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

/** SDK routes that answer with the user the hook put on the request. */
const whoami: SdkModule = (sdk) => {
  sdk.get(`${SDK_PREFIX}/whoami`, async (request) => sdkUserOf(request));
  sdk.get(`${SDK_PREFIX}/redirect`, { config: { sdkTokenInQuery: true } }, async (request) =>
    sdkUserOf(request),
  );
};
const probe: Component = { sdkModules: [whoami] };

for (const kind of STORE_KINDS) {
  describe(`user tokens over the API (${kind})`, () => {
    let t: TestHookyard;
    let a: string;
    let keyA: string;
    let b: string;
    let keyB: string;
    before(async () => {
      t = await startTestHookyard(kind, {}, { components: [probe] });
      a = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
      keyA = (await t.api('POST', `/api/v1/projects/${a}/api-keys`, { body: {} })).body.key;
      b = (await t.api('POST', '/api/v1/projects', { body: { name: 'B' } })).body.id;
      keyB = (await t.api('POST', `/api/v1/projects/${b}/api-keys`, { body: {} })).body.key;
    });
    after(async () => {
      await t.cleanup();
    });

    const sdk = (projectId: string, path: string, token: string | null, query = '') =>
      t.api('GET', `/projects/${projectId}/sdk/${path}${query}`, { key: token });

    it('mints a token with the project key that the SDK routes accept for that user and project only', async () => {
      const minted = await t.api('POST', `/api/v1/projects/${a}/user-tokens`, {
        key: keyA,
        body: { userId: 'user-42', expiresInSeconds: 600 },
      });
      assert.equal(minted.status, 201, JSON.stringify(minted.body));
      assert.equal(minted.body.userId, 'user-42');
      assert.ok(Math.abs(Date.parse(minted.body.expiresAt) - Date.now() - 600_000) < 5000);
      const me = await sdk(a, 'whoami', minted.body.token);
      assert.equal(me.status, 200);
      assert.deepEqual(me.body, { projectId: a, userId: 'user-42' });
      const elsewhere = await sdk(b, 'whoami', minted.body.token);
      assert.equal(elsewhere.status, 401);
      assert.equal(elsewhere.body.code, 'user_token_invalid');
      // The management API does not take user tokens, nor the SDK routes project keys.
      assert.equal((await t.api('GET', `/api/v1/projects/${a}`, { key: minted.body.token })).status, 401);
      assert.equal((await sdk(a, 'whoami', keyA)).body.code, 'user_token_invalid');
    });

    it('takes ?token= only on routes a browser redirect opens', async () => {
      const { token } = (
        await t.api('POST', `/api/v1/projects/${a}/user-tokens`, { key: keyA, body: { userId: 'u-q' } })
      ).body;
      const fromQuery = await sdk(a, 'redirect', null, `?token=${token}`);
      assert.equal(fromQuery.status, 200);
      assert.equal(fromQuery.body.userId, 'u-q');
      const refused = await sdk(a, 'whoami', null, `?token=${token}`);
      assert.equal(refused.status, 401);
      assert.match(refused.body.detail, /Authorization: Bearer/);
      assert.equal((await sdk(a, 'redirect', null)).body.code, 'user_token_invalid');
    });

    it("registers a backend's public key (PEM or JWK), lists it, and deletes it; tokens follow at once", async () => {
      const pair = await generateKeyPair('ES256', { extractable: true });
      const created = await t.api('POST', `/api/v1/projects/${a}/user-token-keys`, {
        key: keyA,
        body: { publicKey: await exportSPKI(pair.publicKey), name: 'backend' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.algorithm, 'ES256');
      assert.equal(created.body.publicKey.crv, 'P-256');
      assert.equal(created.body.publicKey.d, undefined);
      const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const asJwk = await t.api('POST', `/api/v1/projects/${a}/user-token-keys`, {
        key: keyA,
        body: { publicKey: await exportJWK(ed.publicKey), algorithm: 'EdDSA' },
      });
      assert.equal(asJwk.status, 201);

      const token = await new SignJWT({ sub: 'backend-user' })
        .setProtectedHeader({ alg: 'ES256' })
        .setExpirationTime('5m')
        .sign(pair.privateKey);
      assert.equal((await sdk(a, 'whoami', token)).body.userId, 'backend-user');

      const listed = await t.api('GET', `/api/v1/projects/${a}/user-token-keys`, { key: keyA });
      assert.deepEqual(
        listed.body.items.map((k: { id: string }) => k.id),
        [created.body.id, asJwk.body.id],
      );
      // Project B's key sees nothing of A's keys and cannot delete them.
      assert.equal((await t.api('GET', `/api/v1/projects/${a}/user-token-keys`, { key: keyB })).status, 404);
      assert.deepEqual(
        (await t.api('GET', `/api/v1/projects/${b}/user-token-keys`, { key: keyB })).body.items,
        [],
      );
      const path = `/api/v1/projects/${a}/user-token-keys/${created.body.id}`;
      assert.equal((await t.api('DELETE', path, { key: keyB })).status, 404);
      assert.equal(
        (await t.api('DELETE', `/api/v1/projects/${b}/user-token-keys/${created.body.id}`, { key: keyB }))
          .status,
        404,
      );
      assert.equal((await t.api('DELETE', path, { key: keyA })).status, 204);
      assert.equal((await t.api('DELETE', path, { key: keyA })).status, 404);
      const after = await sdk(a, 'whoami', token);
      assert.equal(after.status, 401);
      assert.equal(after.body.code, 'user_token_invalid');
    });

    it('refuses bad keys and bad mint requests with the field named', async () => {
      const rsa = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
      const mismatch = await t.api('POST', `/api/v1/projects/${a}/user-token-keys`, {
        key: keyA,
        body: { publicKey: await exportJWK(rsa.publicKey), algorithm: 'ES256' },
      });
      assert.equal(mismatch.status, 400);
      assert.equal(mismatch.body.code, 'validation_failed');
      assert.match(mismatch.body.detail, /publicKey/);
      const privateKey = await t.api('POST', `/api/v1/projects/${a}/user-token-keys`, {
        key: keyA,
        body: { publicKey: await exportJWK(rsa.privateKey) },
      });
      assert.equal(privateKey.status, 400);
      assert.match(privateKey.body.detail, /public half only/);
      const missing = await t.api('POST', `/api/v1/projects/${a}/user-tokens`, { key: keyA, body: {} });
      assert.equal(missing.status, 400);
      assert.match(missing.body.detail, /userId/);
      const tooLong = await t.api('POST', `/api/v1/projects/${a}/user-tokens`, {
        key: keyA,
        body: { userId: 'u', expiresInSeconds: 86_401 },
      });
      assert.equal(tooLong.status, 400);
      assert.match(tooLong.body.detail, /expiresInSeconds/);
      assert.equal(
        (await t.api('POST', `/api/v1/projects/${a}/user-tokens`, { key: keyB, body: { userId: 'u' } }))
          .status,
        404,
      );
    });
  });
}
