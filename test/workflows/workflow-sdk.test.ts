import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`workflow SDK routes with a user token (${kind})`, () => {
    let t: TestHookyard;
    let projectId: string;
    const tokens: Record<string, string> = {};
    const sdk = (path: string, user: string, body?: unknown, headers: Record<string, string> = {}) =>
      t.api('POST', `/projects/${projectId}/sdk/${path}`, {
        key: tokens[user] ?? null,
        body: body ?? {},
        headers,
      });
    const create = async (doc: unknown): Promise<string> => {
      const res = await t.api('POST', `/api/v1/projects/${projectId}/workflows`, { body: doc });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await t.api('POST', `/api/v1/projects/${projectId}/workflows/${res.body.id}/deploy`);
      return res.body.id;
    };
    const executions = async (workflowId: string) =>
      (await t.api('GET', `/api/v1/projects/${projectId}/executions?workflowId=${workflowId}`)).body.items;

    before(async () => {
      t = await startTestHookyard(kind, { workflowResponseWaitMs: '2000' });
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'sdk' } })).body.id;
      for (const user of ['u1', 'u2']) {
        const minted = await t.api('POST', `/api/v1/projects/${projectId}/user-tokens`, {
          body: { userId: user },
        });
        assert.equal(minted.status, 201, JSON.stringify(minted.body));
        tokens[user] = minted.body.token;
      }
    });
    after(async () => {
      await t.cleanup();
    });

    it('an app event sent with a user token starts the workflows that user enabled, and no other', async () => {
      const id = await create({
        name: 'on signup',
        trigger: { type: 'appEvent', event: 'Signed Up' },
        steps: [{ id: 'hi', type: 'code', code: 'function handler(i) { return i.user.id }' }],
      });
      assert.equal((await sdk(`workflows/${id}/enable`, 'u1')).status, 204);
      const none = await sdk('events/trigger', 'u2', { name: 'Signed Up', payload: {} });
      assert.equal(none.status, 201);
      assert.deepEqual(none.body.executionIds, []);
      const sent = await sdk('events/trigger', 'u1', { name: 'Signed Up', payload: { plan: 'pro' } });
      assert.equal(sent.status, 201);
      assert.equal(sent.body.executionIds.length, 1);
      assert.equal((await sdk('events/trigger', 'nobody', { name: 'Signed Up' })).status, 401);
      assert.equal((await sdk(`workflows/${id}/disable`, 'u1')).status, 204);
      assert.deepEqual((await sdk('events/trigger', 'u1', { name: 'Signed Up' })).body.executionIds, []);
    });

    it('a request that breaks the rules gets 400 naming each failure and starts nothing; one without respond gets 202', async () => {
      const id = await create({
        name: 'intake',
        trigger: {
          type: 'request',
          validation: {
            body: { email: { required: true, type: 'email' }, plan: { equals: 'pro' } },
            headers: { 'X-Source': { required: true } },
            query: { n: { type: 'number' } },
          },
        },
        steps: [{ id: 'echo', type: 'code', code: 'function handler(i) { return i.trigger.body }' }],
      });
      const bad = await sdk(`triggers/${id}?n=abc`, 'u1', { email: 'not-an-email', plan: 'free' });
      assert.equal(bad.status, 400);
      for (const part of [
        'body.email: expected an email',
        'body.plan: expected "pro"',
        'headers.X-Source: is required',
        'query.n: expected a number',
      ]) {
        assert.ok(bad.body.detail.includes(part), `${part} in ${bad.body.detail}`);
      }
      assert.deepEqual(await executions(id), []);
      const ok = await sdk(
        `triggers/${id}?n=3`,
        'u1',
        { email: 'a@b.co', plan: 'pro' },
        { 'x-source': 'web' },
      );
      assert.equal(ok.status, 202, JSON.stringify(ok.body));
      assert.ok(ok.body.executionId.startsWith('exe_'));
      const [run] = await executions(id);
      assert.equal(run.userId, 'u1');
      assert.equal(run.trigger.headers['x-source'], 'web');
      assert.equal(run.trigger.headers.authorization, undefined);
    });

    it('a respond step answers the caller; a slow one gets 504 while the execution completes', async () => {
      const fast = await create({
        name: 'answer',
        trigger: { type: 'request' },
        steps: [
          {
            id: 'sum',
            type: 'code',
            code: 'function handler(i) { return i.trigger.body.a + i.trigger.body.b }',
          },
          {
            id: 'reply',
            type: 'respond',
            status: 200,
            headers: { 'x-total': '{{steps.sum.output}}' },
            body: { total: '{{steps.sum.output}}' },
          },
        ],
      });
      const answered = await sdk(`triggers/${fast}`, 'u1', { a: 2, b: 3 });
      assert.equal(answered.status, 200);
      assert.deepEqual(answered.body, { total: 5 });
      assert.equal(answered.headers.get('x-total'), '5');
      const slow = await create({
        name: 'slow answer',
        trigger: { type: 'request' },
        steps: [
          { id: 'wait', type: 'delay', seconds: 3 },
          { id: 'reply', type: 'respond', status: 201, body: 'late' },
        ],
      });
      const timedOut = await sdk(`triggers/${slow}`, 'u1', {});
      assert.equal(timedOut.status, 504);
      assert.equal(timedOut.body.code, 'workflow_response_timeout');
      const executionId = timedOut.headers.get('x-hookyard-execution-id');
      assert.ok(executionId);
      const deadline = Date.now() + 10_000;
      let status = '';
      while (Date.now() < deadline && status !== 'completed') {
        status = (await t.api('GET', `/api/v1/projects/${projectId}/executions/${executionId}`)).body.status;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 'completed');
    });
  });
}
