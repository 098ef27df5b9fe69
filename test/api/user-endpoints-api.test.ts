import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`endpoints owned by users (${kind})`, () => {
    let t: TestHookyard;
    let receiver: TestReceiver;
    let a: string;
    let keyA: string;
    let b: string;
    let keyB: string;
    let tokenA: string;
    let tokenB: string;
    let shared: string;
    let ofA: string;
    let ofB: string;

    const mint = async (projectId: string, key: string, userId: string) =>
      (await t.api('POST', `/api/v1/projects/${projectId}/user-tokens`, { key, body: { userId } })).body
        .token;
    const sdk = (method: string, path: string, token: string, body?: unknown, projectId = a) =>
      t.api(method, `/projects/${projectId}/sdk${path}`, {
        key: token,
        ...(body !== undefined ? { body } : {}),
      });

    before(async () => {
      t = await startTestHookyard(kind);
      receiver = await startReceiver();
      a = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
      keyA = (await t.api('POST', `/api/v1/projects/${a}/api-keys`, { body: {} })).body.key;
      b = (await t.api('POST', '/api/v1/projects', { body: { name: 'B' } })).body.id;
      keyB = (await t.api('POST', `/api/v1/projects/${b}/api-keys`, { body: {} })).body.key;
      tokenA = await mint(a, keyA, 'user-a');
      tokenB = await mint(a, keyA, 'user-b');
      const create = async (body: Record<string, unknown>) => {
        const r = await t.api('POST', `/api/v1/projects/${a}/endpoints`, { key: keyA, body });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        return r.body;
      };
      shared = (await create({ url: `${receiver.url}/shared` })).id;
      const created = await create({ url: `${receiver.url}/a`, userId: 'user-a' });
      assert.equal(created.userId, 'user-a');
      ofA = created.id;
      // User B makes their own with their token.
      const viaSdk = await sdk('POST', '/endpoints', tokenB, { url: `${receiver.url}/b`, name: 'mine' });
      assert.equal(viaSdk.status, 201, JSON.stringify(viaSdk.body));
      assert.equal(viaSdk.body.userId, 'user-b');
      assert.match(viaSdk.body.secret, /^whsec_/);
      ofB = viaSdk.body.id;
    });
    after(async () => {
      await t.cleanup();
      await receiver.close();
    });

    const deliveredTo = async (messageId: string): Promise<string[]> => {
      const r = await t.api('GET', `/api/v1/projects/${a}/messages/${messageId}/deliveries`, { key: keyA });
      return r.body.items.map((d: { endpointId: string }) => d.endpointId).sort();
    };

    it("delivers a message for user A to A's endpoints and the project-wide ones, never to B's", async () => {
      const published = await t.api('POST', `/api/v1/projects/${a}/messages`, {
        key: keyA,
        body: { eventType: 'invoice.paid', payload: { n: 1 }, userId: 'user-a' },
      });
      assert.equal(published.status, 202);
      assert.equal(published.body.deliveries, 2);
      assert.deepEqual(await deliveredTo(published.body.id), [shared, ofA].sort());
      const got = await receiver.waitFor(2);
      assert.deepEqual(got.map((r) => r.path).sort(), ['/a', '/shared']);
      for (const r of got) assert.equal(r.headers['hookyard-user-id'], 'user-a');

      const forNobody = await t.api('POST', `/api/v1/projects/${a}/messages`, {
        key: keyA,
        body: { eventType: 'invoice.paid', payload: { n: 2 } },
      });
      assert.deepEqual(await deliveredTo(forNobody.body.id), [shared]);
      const forC = await t.api('POST', `/api/v1/projects/${a}/messages`, {
        key: keyA,
        body: { eventType: 'invoice.paid', payload: { n: 3 }, userId: 'user-c' },
      });
      assert.deepEqual(await deliveredTo(forC.body.id), [shared]);
      await receiver.waitFor(4);
      assert.equal(receiver.received.filter((r) => r.path === '/b').length, 0);

      // The endpoint test sender reaches a user's endpoint, as a message of that user.
      const before = receiver.received.length;
      const test = await t.api('POST', `/api/v1/projects/${a}/endpoints/${ofB}/test`, {
        key: keyA,
        body: { eventType: 'ping.sent', payload: { ok: true } },
      });
      assert.equal(test.status, 202, JSON.stringify(test.body));
      const [ping] = (await receiver.waitFor(before + 1)).slice(before);
      assert.equal(ping?.path, '/b');
      assert.equal(ping?.headers['hookyard-user-id'], 'user-b');

      // Resending A's message to B's endpoint is refused: it would hand B another user's message.
      const resend = await t.api('POST', `/api/v1/projects/${a}/messages/${published.body.id}/resend`, {
        key: keyA,
        body: { endpointId: ofB },
      });
      assert.equal(resend.status, 409);
      assert.match(resend.body.detail, /belongs to user user-b/);
    });

    it("lists and manages only the token's user's endpoints; another user's answer 404", async () => {
      const listA = await sdk('GET', '/endpoints', tokenA);
      assert.equal(listA.status, 200);
      assert.deepEqual(
        listA.body.items.map((e: { id: string }) => e.id),
        [ofA],
      );
      const listB = await sdk('GET', '/endpoints', tokenB);
      assert.deepEqual(
        listB.body.items.map((e: { id: string }) => e.id),
        [ofB],
      );
      for (const id of [ofB, shared, 'ep_doesnotexist0000']) {
        for (const [method, body] of [
          ['GET', undefined],
          ['PATCH', { name: 'taken' }],
          ['DELETE', undefined],
        ] as const) {
          const r = await sdk(method, `/endpoints/${id}`, tokenA, body);
          assert.equal(r.status, 404, `${method} ${id}: ${JSON.stringify(r.body)}`);
          assert.equal(r.body.code, 'not_found');
        }
        assert.equal((await sdk('GET', `/endpoints/${id}/deliveries`, tokenA)).status, 404);
        assert.equal((await sdk('GET', `/endpoints/${id}/attempts`, tokenA)).status, 404);
      }
      const stillB = await t.api('GET', `/api/v1/projects/${a}/endpoints/${ofB}`, { key: keyA });
      assert.equal(stillB.body.name, 'mine');

      const patched = await sdk('PATCH', `/endpoints/${ofA}`, tokenA, {
        name: 'renamed',
        eventTypes: ['invoice.*'],
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.name, 'renamed');
      assert.equal(patched.body.userId, 'user-a');
      // The user comes from the token, never from the body.
      const claim = await sdk('POST', '/endpoints', tokenA, { url: `${receiver.url}/x`, userId: 'user-b' });
      assert.equal(claim.status, 400);
      assert.match(claim.body.detail, /userId/);
      const move = await sdk('PATCH', `/endpoints/${ofA}`, tokenA, { userId: 'user-b' });
      assert.equal(move.status, 400);

      const deliveries = await sdk('GET', `/endpoints/${ofA}/deliveries`, tokenA);
      assert.equal(deliveries.status, 200);
      assert.equal(deliveries.body.items.length, 1);
      assert.equal(deliveries.body.items[0].endpointId, ofA);
      assert.ok(deliveries.body.items[0].messageId.startsWith('msg_'));
      const attempts = await sdk('GET', `/endpoints/${ofA}/attempts`, tokenA);
      assert.equal(attempts.status, 200);
      assert.equal(attempts.body.items.length, 1);
      assert.equal(attempts.body.items[0].deliveryId, deliveries.body.items[0].id);
      assert.equal(attempts.body.items[0].statusCode, 200);

      const extra = await sdk('POST', '/endpoints', tokenA, { url: `${receiver.url}/a2` });
      assert.equal(extra.status, 201);
      assert.equal((await sdk('DELETE', `/endpoints/${extra.body.id}`, tokenA)).status, 204);
      assert.equal((await sdk('GET', `/endpoints/${extra.body.id}`, tokenA)).status, 404);
    });

    it('lets a user create at most 50 endpoints of their own', async () => {
      const tokenD = await mint(a, keyA, 'user-d');
      for (let i = 0; i < 50; i++) {
        const r = await sdk('POST', '/endpoints', tokenD, { url: `${receiver.url}/d${i}` });
        assert.equal(r.status, 201, JSON.stringify(r.body));
      }
      const over = await sdk('POST', '/endpoints', tokenD, { url: `${receiver.url}/d50` });
      assert.equal(over.status, 409);
      assert.match(over.body.detail, /50 endpoints/);
      // The project itself is not bound by it, and other users are not affected.
      const byProject = await t.api('POST', `/api/v1/projects/${a}/endpoints`, {
        key: keyA,
        body: { url: `${receiver.url}/d51`, userId: 'user-d' },
      });
      assert.equal(byProject.status, 201);
      assert.equal((await sdk('POST', '/endpoints', tokenA, { url: `${receiver.url}/a3` })).status, 201);
    });

    it("filters the management list by user; project B's key and tokens see nothing of project A", async () => {
      const byUser = await t.api('GET', `/api/v1/projects/${a}/endpoints?userId=user-b`, { key: keyA });
      assert.deepEqual(
        byUser.body.items.map((e: { id: string }) => e.id),
        [ofB],
      );
      assert.equal((await t.api('GET', `/api/v1/projects/${a}/endpoints`, { key: keyB })).status, 404);
      assert.equal((await t.api('GET', `/api/v1/projects/${a}/endpoints/${ofA}`, { key: keyB })).status, 404);
      assert.equal((await t.api('GET', `/api/v1/projects/${b}/endpoints/${ofA}`, { key: keyB })).status, 404);
      const tokenOfB = await mint(b, keyB, 'user-a');
      // Project B's token for a user of the same name: A's project refuses it, B's has no such endpoint.
      assert.equal((await sdk('GET', '/endpoints', tokenOfB)).status, 401);
      assert.deepEqual((await sdk('GET', '/endpoints', tokenOfB, undefined, b)).body.items, []);
      assert.equal((await sdk('GET', `/endpoints/${ofA}`, tokenOfB, undefined, b)).status, 404);
      assert.equal((await sdk('GET', '/endpoints', tokenA, undefined, b)).status, 401);
    });
  });
}
