import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const kind of STORE_KINDS) {
  describe(`settings that cannot work are refused or flagged (${kind})`, () => {
    let t: TestHookyard;
    let receiver: TestReceiver;
    let projectId: string;
    before(async () => {
      // The operator allows loopback (the test receiver) and one private block.
      t = await startTestHookyard(kind, { egressAllow: '127.0.0.0/8,10.20.0.0/16' });
      receiver = await startReceiver();
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'checks' } })).body.id;
    });
    after(async () => {
      await t.cleanup();
      await receiver.close();
    });

    const p = (suffix: string) => `/api/v1/projects/${projectId}${suffix}`;

    it('PUT replaces the delivery settings, PATCH merges them', async () => {
      const put = await t.api('PUT', p('/delivery-settings'), {
        body: { retryScheduleMs: [0, 1000], egressAllow: ['127.0.0.0/8'] },
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const patched = await t.api('PATCH', p('/delivery-settings'), { body: { retryScheduleMs: [5] } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual(patched.body.retryScheduleMs, [5]);
      assert.deepEqual(patched.body.egressAllow, ['127.0.0.0/8'], 'PATCH keeps what it omits');
      const stored = await t.api('GET', p('/delivery-settings'));
      assert.deepEqual(stored.body.egressAllow, ['127.0.0.0/8']);
      const replaced = await t.api('PUT', p('/delivery-settings'), { body: { retryScheduleMs: [7] } });
      assert.deepEqual(replaced.body, { ...replaced.body, retryScheduleMs: [7], egressAllow: null });
      const emptied = await t.api('PATCH', p('/delivery-settings'), { body: {} });
      assert.deepEqual(emptied.body.retryScheduleMs, [7]);
    });

    it("refuses an egress list that reaches outside the operator's", async () => {
      for (const method of ['PUT', 'PATCH']) {
        const res = await t.api(method, p('/delivery-settings'), {
          body: { egressAllow: ['10.20.1.0/24', '10.0.0.0/8'] },
        });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.match(
          res.body.detail,
          /^egressAllow: 10\.0\.0\.0\/8 is not inside the operator's egress allow list \(HOOKYARD_EGRESS_ALLOW\)/,
        );
      }
      const inside = await t.api('PATCH', p('/delivery-settings'), {
        body: { egressAllow: ['10.20.1.0/24'] },
      });
      assert.equal(inside.status, 200);
      await t.api('PUT', p('/delivery-settings'), { body: {} });
    });

    it("says the project's list blocked a delivery when the operator's would allow it", async () => {
      const endpoint = await t.api('POST', p('/endpoints'), { body: { url: `${receiver.url}/narrowed` } });
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      // Inside the operator's list, but not the receiver's address.
      await t.api('PUT', p('/delivery-settings'), {
        body: { retryScheduleMs: [], egressAllow: ['127.0.0.2/32'] },
      });
      const published = await t.api('POST', p('/messages'), { body: { eventType: 'a.b', payload: 1 } });
      assert.equal(published.body.deliveries, 1);
      const deliveries = await eventually(
        () => t.api('GET', p(`/messages/${published.body.id}/deliveries`)),
        (r) => r.body.items[0]?.status === 'failed',
      );
      const attempt = deliveries.body.items[0].attempts[0];
      assert.equal(attempt.errorKind, 'egress_blocked');
      assert.match(attempt.errorMessage, /project's delivery settings/);
      assert.match(attempt.errorMessage, /PATCH \/api\/v1\/projects\/\{projectId\}\/delivery-settings/);
      assert.doesNotMatch(attempt.errorMessage, /outside the operator's/);
      await t.api('PUT', p('/delivery-settings'), { body: {} });
      await t.api('DELETE', p(`/endpoints/${endpoint.body.id}`));
    });

    it('answers 409 to rebinding an account to another user, 200 to the same binding', async () => {
      const source = await t.api('POST', p('/sources'), {
        body: { verification: { type: 'none' }, routing: { jsonPath: '$.team_id' } },
      });
      const tenants = p(`/sources/${source.body.id}/tenants`);
      const first = await t.api('POST', tenants, { body: { providerAccountId: 'T1', userId: 'alice' } });
      assert.equal(first.status, 201);
      const again = await t.api('POST', tenants, { body: { providerAccountId: 'T1', userId: 'alice' } });
      assert.equal(again.status, 200);
      assert.equal(again.body.tenant.id, first.body.tenant.id);
      const rebind = await t.api('POST', tenants, { body: { providerAccountId: 'T1', userId: 'bob' } });
      assert.equal(rebind.status, 409, JSON.stringify(rebind.body));
      assert.equal(rebind.body.code, 'conflict');
      assert.match(rebind.body.detail, /already bound to user alice/);
      assert.match(rebind.body.detail, new RegExp(`DELETE .*/tenants/${first.body.tenant.id}`));
      const list = await t.api('GET', tenants);
      assert.deepEqual(
        list.body.items.map((x: { userId: string }) => x.userId),
        ['alice'],
      );
      await t.api('DELETE', `${tenants}/${first.body.tenant.id}`);
      const moved = await t.api('POST', tenants, { body: { providerAccountId: 'T1', userId: 'bob' } });
      assert.equal(moved.status, 201);
      assert.equal(moved.body.tenant.userId, 'bob');
    });

    it('refuses a tenant binding on a source without routing', async () => {
      const source = await t.api('POST', p('/sources'), { body: { verification: { type: 'none' } } });
      const res = await t.api('POST', p(`/sources/${source.body.id}/tenants`), {
        body: { providerAccountId: 'T1' },
      });
      assert.equal(res.status, 409);
      assert.match(res.body.detail, /has no routing rule/);
      const listed = await t.api('GET', p(`/sources/${source.body.id}/tenants`));
      assert.deepEqual(listed.body.items, []);
    });
  });
}

describe('creation checks for sources and endpoints', () => {
  let t: TestHookyard;
  let projectId: string;
  before(async () => {
    // No operator allow list: loopback is blocked.
    t = await startTestHookyard('sqlite', { egressAllow: '' });
    projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'creation' } })).body.id;
  });
  after(async () => {
    await t.cleanup();
  });
  const p = (suffix: string) => `/api/v1/projects/${projectId}${suffix}`;

  it('flags a preset source without a secret until one is added', async () => {
    const created = await t.api('POST', p('/sources'), { body: { provider: 'stripe' } });
    assert.equal(created.status, 201);
    assert.equal(created.body.warnings.length, 1);
    assert.match(
      created.body.warnings[0],
      /^secrets: none set; stripe signs every request, so each is refused \(401\)/,
    );
    assert.deepEqual(
      (await t.api('GET', p(`/sources/${created.body.id}`))).body.warnings,
      created.body.warnings,
    );
    const fixed = await t.api('PATCH', p(`/sources/${created.body.id}`), {
      body: { secrets: ['whsec_abc'] },
    });
    assert.deepEqual(fixed.body.warnings, []);
    const keyPair = await t.api('POST', p('/sources'), { body: { provider: 'discord' } });
    assert.match(keyPair.body.warnings[0], /^publicKey: none set/);
    const open = await t.api('POST', p('/sources'), { body: { verification: { type: 'none' } } });
    assert.deepEqual(open.body.warnings, []);
    // The secret arrives in the provider's handshake: nothing to flag.
    const asana = await t.api('POST', p('/sources'), { body: { provider: 'asana' } });
    assert.deepEqual(asana.body.warnings, []);
  });

  it('refuses an endpoint whose host resolves only to blocked addresses', async () => {
    const res = await t.api('POST', p('/endpoints'), { body: { url: 'http://localhost:9/hook' } });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.detail, /^url: egress to .* \(resolved from localhost\) is blocked: loopback/);
    assert.match(res.body.detail, /HOOKYARD_EGRESS_ALLOW/);
    const listed = await t.api('GET', p('/endpoints'));
    assert.deepEqual(listed.body.items, []);
    const created = await t.api('POST', p('/endpoints'), { body: { url: 'https://receiver.example/hook' } });
    assert.equal(created.status, 201);
    const patched = await t.api('PATCH', p(`/endpoints/${created.body.id}`), {
      body: { url: 'http://localhost:9/hook' },
    });
    assert.equal(patched.status, 400);
  });

  it('accepts an endpoint whose host does not resolve yet, with a warning', async () => {
    const res = await t.api('POST', p('/endpoints'), { body: { url: 'https://not-yet.invalid/hook' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.warnings.length, 1);
    assert.match(res.body.warnings[0], /^url: not-yet\.invalid does not resolve now/);
  });
});
