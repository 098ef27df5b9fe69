import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startReceiver, type TestReceiver } from '../delivery/receiver.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

async function waitForExecution(
  t: TestHookyard,
  projectId: string,
  id: string,
  statuses: readonly string[],
  timeoutMs = 15_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.api('GET', `/api/v1/projects/${projectId}/executions/${id}`);
    if (statuses.includes(res.body.status)) return res.body;
    if (Date.now() > deadline)
      assert.fail(`execution ${id} is ${res.body.status}: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const kind of STORE_KINDS) {
  describe(`workflow engine over the API (${kind})`, () => {
    let t: TestHookyard;
    let receiver: TestReceiver;
    let hooks: TestReceiver;
    let projectId: string;
    let secret: string;

    const createDeployed = async (doc: unknown, users: string[] = ['u1']): Promise<string> => {
      const created = await t.api('POST', `/api/v1/projects/${projectId}/workflows`, { body: doc });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id;
      assert.equal((await t.api('POST', `/api/v1/projects/${projectId}/workflows/${id}/deploy`)).status, 200);
      for (const user of users) {
        const res = await t.api('POST', `/api/v1/projects/${projectId}/workflows/${id}/users/${user}/enable`);
        assert.equal(res.status, 204);
      }
      return id;
    };
    const sendEvent = (name: string, userId: string, payload: unknown) =>
      t.api('POST', `/api/v1/projects/${projectId}/app-events/trigger`, { body: { name, userId, payload } });

    before(async () => {
      t = await startTestHookyard(kind);
      receiver = await startReceiver();
      hooks = await startReceiver();
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'wf' } })).body.id;
      const endpoint = await t.api('POST', `/api/v1/projects/${projectId}/endpoints`, {
        body: { url: `${hooks.url}/lifecycle`, eventTypes: ['workflowExecution.*', 'contact.*'] },
      });
      assert.equal(endpoint.status, 201);
      secret = endpoint.body.secret;
    });
    after(async () => {
      await t.cleanup();
      await receiver.close();
      await hooks.close();
    });

    it('answers an invalid document with every problem by path, and stores nothing', async () => {
      const res = await t.api('POST', `/api/v1/projects/${projectId}/workflows`, {
        body: {
          name: 'bad',
          trigger: { type: 'schedule', cron: 'nope', timezone: 'Mars/Olympus' },
          steps: [
            { id: 'a', type: 'code', code: 'function handler(i) { return i }' },
            { id: 'a', type: 'http', method: 'POST', url: 'https://x.example/{{steps.missing.output.id}}' },
            { id: 'r', type: 'respond', body: '{{credential.accessToken}}' },
          ],
        },
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.code, 'validation_failed');
      for (const part of [
        'trigger.timezone',
        'trigger.cron',
        'steps[1].id: "a" is already the id of steps[0]',
        'steps[1].url: {{steps.missing…}} names no step',
        'steps[2].body: {{credential.accessToken}} is not a known placeholder',
        'steps[2]: a respond step answers a request trigger',
      ]) {
        assert.ok(res.body.detail.includes(part), `${part} in ${res.body.detail}`);
      }
      const list = await t.api('GET', `/api/v1/projects/${projectId}/workflows`);
      assert.deepEqual(list.body.items, []);
    });

    it('one app event starts two workflows for the right user only; steps run in order and report in order, signed', async () => {
      receiver.setDefault({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"crmId":"c-9"}',
      });
      const three = await createDeployed({
        name: 'sync contact',
        trigger: { type: 'appEvent', event: 'Contact Created' },
        steps: [
          {
            id: 'shape',
            type: 'code',
            code: 'function handler(input) { return { email: input.trigger.payload.email.toUpperCase() } }',
          },
          {
            id: 'send',
            type: 'http',
            method: 'POST',
            url: `${receiver.url}/crm/{{user.id}}`,
            body: { email: '{{steps.shape.output.email}}' },
            idempotencyKey: true,
          },
          {
            id: 'announce',
            type: 'publish',
            eventType: 'contact.synced',
            payload: { crmId: '{{steps.send.output.body.crmId}}' },
          },
        ],
      });
      const other = await createDeployed({
        name: 'second',
        trigger: { type: 'appEvent', event: 'Contact Created' },
        steps: [{ id: 'only', type: 'code', code: 'function handler(i) { return 1 }' }],
      });
      // Deployed but enabled for nobody; enabled but not deployed: neither runs.
      await createDeployed(
        { name: 'nobody', trigger: { type: 'appEvent', event: 'Contact Created' }, steps: [] },
        [],
      );
      const undeployed = await t.api('POST', `/api/v1/projects/${projectId}/workflows`, {
        body: { name: 'undeployed', trigger: { type: 'appEvent', event: 'Contact Created' }, steps: [] },
      });
      await t.api('POST', `/api/v1/projects/${projectId}/workflows/${undeployed.body.id}/users/u1/enable`);

      assert.deepEqual((await sendEvent('Contact Created', 'u2', { email: 'x@y.z' })).body.executionIds, []);
      const sent = await sendEvent('Contact Created', 'u1', { email: 'ada@example.com' });
      assert.equal(sent.status, 201);
      assert.equal(sent.body.executionIds.length, 2);
      const executions = await Promise.all(
        sent.body.executionIds.map((id: string) =>
          waitForExecution(t, projectId, id, ['completed', 'failed']),
        ),
      );
      assert.deepEqual(executions.map((e) => [e.status, e.userId]).sort(), [
        ['completed', 'u1'],
        ['completed', 'u1'],
      ]);
      assert.deepEqual(executions.map((e) => e.workflowId).sort(), [three, other].sort());
      const run = executions.find((e) => e.workflowId === three);
      assert.deepEqual(
        run.steps.map((s: any) => [s.stepId, s.status, s.attempts]),
        [
          ['shape', 'succeeded', 1],
          ['send', 'succeeded', 1],
          ['announce', 'succeeded', 1],
        ],
      );
      assert.deepEqual(run.steps[0].output, { email: 'ADA@EXAMPLE.COM' });
      assert.equal(run.steps[1].output.body.crmId, 'c-9');
      const [crm] = receiver.received.filter((r) => r.path === '/crm/u1');
      assert.ok(crm);
      assert.deepEqual(JSON.parse(crm.body), { email: 'ADA@EXAMPLE.COM' });
      assert.equal(crm.headers['idempotency-key'], `${run.id}:send`);

      // Lifecycle messages for that execution, in the order they happened, verified as Standard Webhooks.
      const wh = new Webhook(secret);
      const expected = [
        'workflowExecution.started',
        'workflowExecution.actionExecuted',
        'workflowExecution.actionExecuted',
        'workflowExecution.actionExecuted',
        'workflowExecution.completed',
      ];
      const deadline = Date.now() + 10_000;
      let mine: any[] = [];
      while (Date.now() < deadline) {
        mine = hooks.received
          .map((r) =>
            wh.verify(r.body, {
              'webhook-id': String(r.headers['webhook-id']),
              'webhook-timestamp': String(r.headers['webhook-timestamp']),
              'webhook-signature': String(r.headers['webhook-signature']),
            }),
          )
          .filter((e: any) => e.payload.workflowExecutionId === run.id);
        if (mine.length >= expected.length) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(
        mine.map((e) => e.eventType),
        expected,
      );
      assert.deepEqual(
        mine.filter((e) => e.eventType.endsWith('actionExecuted')).map((e) => e.payload.workflowActionId),
        ['shape', 'send', 'announce'],
      );
      for (const e of mine) {
        assert.equal(e.payload.workflowId, three);
        assert.equal(e.userId, 'u1');
      }
      const published = hooks.received
        .map((r) => JSON.parse(r.body))
        .filter((e) => e.eventType === 'contact.synced');
      assert.deepEqual(
        published.map((e) => e.payload),
        [{ crmId: 'c-9' }],
      );
    });

    it('forEach with a cap, conditions, and retries of a failing http step', async () => {
      let calls = 0;
      receiver.decide((r) => {
        if (!r.path.startsWith('/flaky')) return undefined;
        calls++;
        return calls === 1 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' };
      });
      const id = await createDeployed({
        name: 'loop',
        trigger: { type: 'appEvent', event: 'Batch' },
        steps: [
          {
            id: 'each',
            type: 'forEach',
            items: '{{trigger.payload.items}}',
            concurrency: 2,
            steps: [
              {
                id: 'big',
                type: 'condition',
                if: { left: '{{item.n}}', operator: 'greaterThan', right: 10 },
                // biome-ignore lint/suspicious/noThenProperty: a condition step names its branches then and else
                then: [
                  {
                    id: 'double',
                    type: 'code',
                    input: { n: '{{item.n}}' },
                    code: 'function handler(i) { return i.n * 2 }',
                  },
                ],
                else: [
                  {
                    id: 'keep',
                    type: 'code',
                    input: { n: '{{item.n}}' },
                    code: 'function handler(i) { return i.n }',
                  },
                ],
              },
            ],
          },
          {
            id: 'flaky',
            type: 'http',
            method: 'GET',
            url: `${receiver.url}/flaky`,
            retry: { retries: 2, delaysSeconds: [0.2] },
          },
        ],
      });
      const sent = await sendEvent('Batch', 'u1', { items: [{ n: 5 }, { n: 20 }, { n: 11 }] });
      const [executionId] = sent.body.executionIds;
      const done = await waitForExecution(t, projectId, executionId, ['completed', 'failed']);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.equal(done.workflowId, id);
      const each = done.steps.find((s: any) => s.stepId === 'each');
      assert.deepEqual(each.output, [
        { big: { result: false }, keep: 5 },
        { big: { result: true }, double: 40 },
        { big: { result: true }, double: 22 },
      ]);
      assert.deepEqual(
        done.steps
          .filter((s: any) => s.stepId === 'keep' || s.stepId === 'double')
          .map((s: any) => s.stepKey)
          .sort(),
        ['each[0].keep', 'each[1].double', 'each[2].double'],
      );
      const flaky = done.steps.find((s: any) => s.stepId === 'flaky');
      assert.equal(flaky.attempts, 2);
      assert.equal(calls, 2);
    });

    it('waitForEvent resumes on a matching event of the same user and times out otherwise', async () => {
      await createDeployed(
        {
          name: 'wait',
          trigger: { type: 'appEvent', event: 'Order Placed' },
          steps: [
            {
              id: 'paid',
              type: 'waitForEvent',
              event: 'Order Paid',
              match: { orderId: '{{trigger.payload.orderId}}' },
              timeoutSeconds: 2,
            },
            {
              id: 'after',
              type: 'code',
              input: { t: '{{steps.paid.output.timedOut}}' },
              code: 'function handler(i) { return i.t }',
            },
          ],
        },
        ['u1', 'u2'],
      );
      const [matched] = (await sendEvent('Order Placed', 'u1', { orderId: 7 })).body.executionIds;
      const [timesOut] = (await sendEvent('Order Placed', 'u2', { orderId: 7 })).body.executionIds;
      await waitForExecution(t, projectId, matched, ['waiting']);
      await waitForExecution(t, projectId, timesOut, ['waiting']);
      await sendEvent('Order Paid', 'u1', { orderId: 8 });
      await sendEvent('Order Paid', 'u1', { orderId: 7 });
      const done = await waitForExecution(t, projectId, matched, ['completed', 'failed']);
      assert.deepEqual(
        done.steps.map((s: any) => [s.stepId, s.output]),
        [
          ['paid', { timedOut: false, event: { name: 'Order Paid', payload: { orderId: 7 } } }],
          ['after', false],
        ],
      );
      const late = await waitForExecution(t, projectId, timesOut, ['completed', 'failed']);
      assert.deepEqual(
        late.steps.map((s: any) => [s.stepId, s.output]),
        [
          ['paid', { timedOut: true, event: null }],
          ['after', true],
        ],
      );
    });

    it('cancel stops an execution; an execution finishes on the version it started with', async () => {
      const id = await createDeployed({
        name: 'slow',
        trigger: { type: 'appEvent', event: 'Slow' },
        steps: [
          { id: 'pause', type: 'delay', seconds: 1 },
          { id: 'v', type: 'code', code: 'function handler() { return "v1" }' },
        ],
      });
      const [canceled] = (await sendEvent('Slow', 'u1', {})).body.executionIds;
      const [kept] = (await sendEvent('Slow', 'u1', {})).body.executionIds;
      await waitForExecution(t, projectId, canceled, ['waiting']);
      const cancel = await t.api('POST', `/api/v1/projects/${projectId}/executions/${canceled}/cancel`);
      assert.equal(cancel.status, 200);
      assert.equal(cancel.body.status, 'canceled');
      assert.equal(
        (await t.api('POST', `/api/v1/projects/${projectId}/executions/${canceled}/cancel`)).status,
        409,
      );
      const v2 = await t.api('PUT', `/api/v1/projects/${projectId}/workflows/${id}`, {
        body: {
          name: 'slow',
          trigger: { type: 'appEvent', event: 'Slow' },
          steps: [
            { id: 'pause', type: 'delay', seconds: 1 },
            { id: 'v', type: 'code', code: 'function handler() { return "v2" }' },
          ],
        },
      });
      assert.equal(v2.body.version, 2);
      const done = await waitForExecution(t, projectId, kept, ['completed']);
      assert.equal(done.version, 1);
      assert.equal(done.steps[1].output, 'v1');
      await new Promise((r) => setTimeout(r, 1500));
      const stopped = await t.api('GET', `/api/v1/projects/${projectId}/executions/${canceled}`);
      assert.equal(stopped.body.status, 'canceled');
      assert.deepEqual(
        stopped.body.steps.map((s: any) => s.stepId),
        ['pause'],
      );
      const replay = await t.api('POST', `/api/v1/projects/${projectId}/executions/${kept}/replay`);
      assert.equal(replay.status, 201);
      const replayed = await waitForExecution(t, projectId, replay.body.id, ['completed']);
      assert.equal(replayed.version, 2);
      assert.equal(replayed.steps[1].output, 'v2');
      const list = await t.api(
        'GET',
        `/api/v1/projects/${projectId}/executions?workflowId=${id}&status=canceled`,
      );
      assert.deepEqual(
        list.body.items.map((e: any) => e.id),
        [canceled],
      );
    });
  });
}
