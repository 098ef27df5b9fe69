import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { FakeClock } from '../../src/domain/clock.ts';
import { HookyardError } from '../../src/domain/errors.ts';
import { newId, type ProjectId } from '../../src/domain/ids.ts';
import { createProjectService } from '../../src/projects/project-service.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import type { UserTokenAlgorithm } from '../../src/store/user-store.ts';
import { parseUserTokenPublicKey } from '../../src/users/user-token-key-parser.ts';
import { createUserTokens, type UserTokens } from '../../src/users/user-tokens.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

async function sign(
  pair: KeyPair,
  alg: string,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, ...header }).sign(pair.privateKey);
}

/** Asserts the promise rejects with a HookyardError of this code whose detail matches. */
async function refused(p: Promise<unknown>, code: string, detail?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HookyardError, String(err));
    assert.equal(err.code, code, err.detail);
    assert.equal(err.status, 401);
    if (detail) assert.match(err.detail, detail);
    return true;
  });
}

for (const kind of STORE_KINDS) {
  describe(`user tokens (${kind})`, () => {
    let t: TestStore;
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const nowSeconds = () => Math.floor(clock.nowMs() / 1000);
    const secrets = createSecretBox([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
    let tokens: UserTokens;
    let a: ProjectId;
    let b: ProjectId;
    const pairs = {} as Record<UserTokenAlgorithm, KeyPair>;

    async function register(
      projectId: ProjectId,
      algorithm: UserTokenAlgorithm,
      pair: KeyPair,
      asPem: boolean,
    ) {
      const input = asPem ? await exportSPKI(pair.publicKey) : await exportJWK(pair.publicKey);
      const parsed = parseUserTokenPublicKey(input);
      assert.equal(parsed.algorithm, algorithm);
      const id = newId('userTokenKey');
      await t.store.insertUserTokenKey({
        id,
        projectId,
        name: algorithm,
        ...parsed,
        createdAtMs: clock.nowMs(),
      });
      return id;
    }

    before(async () => {
      t = await openTestStore(kind);
      tokens = createUserTokens({ store: t.store, secrets, clock });
      const projects = createProjectService({ store: t.store, secrets, clock });
      a = (await projects.createProject('A')).id;
      b = (await projects.createProject('B')).id;
      pairs.RS256 = await generateKeyPair('RS256', { extractable: true });
      pairs.ES256 = await generateKeyPair('ES256', { extractable: true });
      pairs.EdDSA = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      await register(a, 'RS256', pairs.RS256, true);
      await register(a, 'ES256', pairs.ES256, false);
      await register(a, 'EdDSA', pairs.EdDSA, true);
    });
    after(async () => {
      await t.cleanup();
    });

    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      it(`accepts a ${alg} token signed with a registered key, and names its user`, async () => {
        const token = await sign(pairs[alg], alg, { sub: 'user-42', exp: nowSeconds() + 60 });
        const subject = await tokens.verify(a, token);
        assert.deepEqual(subject, {
          projectId: a,
          userId: 'user-42',
          expiresAtMs: (nowSeconds() + 60) * 1000,
        });
      });
    }

    it('accepts Ed25519 as the explicit name of EdDSA', async () => {
      const token = await sign(pairs.EdDSA, 'Ed25519', { sub: 'u', exp: nowSeconds() + 60 });
      assert.equal((await tokens.verify(a, token)).userId, 'u');
    });

    it('refuses an expired token (user_token_expired) beyond a short leeway, and accepts one within it', async () => {
      const late = await sign(pairs.ES256, 'ES256', { sub: 'u', exp: nowSeconds() - 60 });
      await refused(tokens.verify(a, late), 'user_token_expired', /exp/);
      const skewed = await sign(pairs.ES256, 'ES256', { sub: 'u', exp: nowSeconds() - 10 });
      assert.equal((await tokens.verify(a, skewed)).userId, 'u');
    });

    it('refuses a token signed with a key the project does not have', async () => {
      for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
        const stranger = await generateKeyPair(alg, { extractable: true });
        const token = await sign(stranger, alg, { sub: 'u', exp: nowSeconds() + 60 });
        await refused(tokens.verify(a, token), 'user_token_invalid', /does not verify/);
      }
    });

    it("refuses project A's tokens on project B: its keys, Hookyard's minted ones, and an aud naming A", async () => {
      const token = await sign(pairs.RS256, 'RS256', { sub: 'u', exp: nowSeconds() + 60 });
      await refused(tokens.verify(b, token), 'user_token_invalid');
      const minted = await tokens.mint(a, 'u', 60);
      assert.equal((await tokens.verify(a, minted.token)).userId, 'u');
      await refused(tokens.verify(b, minted.token), 'user_token_invalid');
      // One key on both projects: a token whose aud names A is good on A only.
      await register(b, 'RS256', pairs.RS256, false);
      const forA = await sign(pairs.RS256, 'RS256', { sub: 'u', exp: nowSeconds() + 60, aud: a });
      assert.equal((await tokens.verify(a, forA)).userId, 'u');
      await refused(tokens.verify(b, forA), 'user_token_invalid', /aud/);
      await refused(tokens.verify('prj_doesnotexist000', token), 'user_token_invalid');
      await refused(tokens.verify('not-a-project', token), 'user_token_invalid');
    });

    it('refuses alg none, HS256 keyed with a public key, and a kid naming another key', async () => {
      const payload = base64url.encode(JSON.stringify({ sub: 'u', exp: nowSeconds() + 60 }));
      const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`;
      await refused(tokens.verify(a, none), 'user_token_invalid', /alg "none"/);
      const project = await t.store.getProject(a);
      const hs = await new SignJWT({ sub: 'u', exp: nowSeconds() + 60 })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(Buffer.from(project?.signingPublicKey ?? '', 'base64'));
      await refused(tokens.verify(a, hs), 'user_token_invalid', /HS256/);
      const otherKid = await sign(pairs.ES256, 'ES256', { sub: 'u', exp: nowSeconds() + 60 }, { kid: a });
      await refused(tokens.verify(a, otherKid), 'user_token_invalid', /kid/);
    });

    it('refuses a token without sub or exp, naming the claim', async () => {
      await refused(
        tokens.verify(a, await sign(pairs.EdDSA, 'EdDSA', { exp: nowSeconds() + 60 })),
        'user_token_invalid',
        /"sub"/,
      );
      await refused(
        tokens.verify(a, await sign(pairs.EdDSA, 'EdDSA', { sub: 'u' })),
        'user_token_invalid',
        /"exp"/,
      );
      await refused(
        tokens.verify(a, await sign(pairs.EdDSA, 'EdDSA', { sub: 7, exp: nowSeconds() + 60 })),
        'user_token_invalid',
        /sub/,
      );
    });

    it('refuses text that is not a JWT, and an over-long one, before any key is tried', async () => {
      await refused(tokens.verify(a, ''), 'user_token_invalid', /missing/);
      await refused(tokens.verify(a, 'abc'), 'user_token_invalid', /three base64url parts/);
      await refused(tokens.verify(a, '!!.!!.!!'), 'user_token_invalid');
      await refused(tokens.verify(a, `${'a'.repeat(9000)}.b.c`), 'user_token_invalid', /longer than/);
    });

    it('mints tokens with the project key that expire as asked; a deleted registered key stops verifying', async () => {
      const minted = await tokens.mint(a, 'user-7', 120);
      assert.equal(minted.expiresAtMs, (nowSeconds() + 120) * 1000);
      assert.equal((await tokens.verify(a, minted.token)).userId, 'user-7');
      clock.advance(121_000 + 30_000);
      await refused(tokens.verify(a, minted.token), 'user_token_expired');
      await assert.rejects(tokens.mint(a, 'u', 0), /expiresInSeconds/);
      await assert.rejects(tokens.mint(a, '', 60), /userId/);

      const pair = await generateKeyPair('ES256', { extractable: true });
      const id = await register(a, 'ES256', pair, true);
      const token = await sign(pair, 'ES256', { sub: 'u', exp: nowSeconds() + 60 }, { kid: id });
      assert.equal((await tokens.verify(a, token)).userId, 'u');
      assert.equal(await t.store.deleteUserTokenKey(b, id), false);
      assert.equal(await t.store.deleteUserTokenKey(a, id), true);
      await refused(tokens.verify(a, token), 'user_token_invalid');
    });
  });
}

describe('user token key parser', () => {
  it('refuses private keys, weak RSA, other curves and a mismatched algorithm, naming publicKey', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    assert.throws(() => parseUserTokenPublicKey(privatePem), /publicKey is a private key/);
    const privateJwk = rsa.privateKey.export({ format: 'jwk' });
    assert.throws(() => parseUserTokenPublicKey(privateJwk), /publicKey is a private/);
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(
      () => parseUserTokenPublicKey(weak.publicKey.export({ type: 'spki', format: 'pem' })),
      /1024 bits/,
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    assert.throws(() => parseUserTokenPublicKey(p384.publicKey.export({ format: 'jwk' })), /P-256/);
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    assert.throws(
      () => parseUserTokenPublicKey(pem, 'ES256'),
      /algorithm is ES256 but publicKey is a key for RS256/,
    );
    assert.throws(() => parseUserTokenPublicKey('hello'), /PEM public key/);
    assert.throws(() => parseUserTokenPublicKey(42), /PEM public key \(string\) or a JWK/);
    assert.throws(() => parseUserTokenPublicKey({ kty: 'oct', k: 'c2VjcmV0' }), /symmetric/);
    const pkcs1 = rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    assert.equal(parseUserTokenPublicKey(pkcs1).algorithm, 'RS256');
    const jwk = parseUserTokenPublicKey(pem).publicJwk;
    assert.deepEqual(Object.keys(jwk).sort(), ['e', 'kty', 'n']);
  });
});
