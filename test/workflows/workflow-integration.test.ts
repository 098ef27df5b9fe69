import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of STORE_KINDS) {
  describe(`workflows and integrations (${kind})`, () => {
    let t: TestHookyard;
    let projectId: string;

    const executions = async (workflowId: string, userId: string) => {
      const res = await t.api(
        'GET',
        `/api/v1/projects/${projectId}/executions?workflowId=${workflowId}&userId=${userId}`,
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.items as Array<{ id: string; userId: string; status: string }>;
    };
    const createDeployed = async (doc: unknown): Promise<string> => {
      const created = await t.api('POST', `/api/v1/projects/${projectId}/workflows`, { body: doc });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const deploy = await t.api('POST', `/api/v1/projects/${projectId}/workflows/${created.body.id}/deploy`);
      assert.equal(deploy.status, 200);
      return created.body.id;
    };
    const enable = (workflowId: string, userId: string) =>
      t.api('POST', `/api/v1/projects/${projectId}/workflows/${workflowId}/users/${userId}/enable`);
    const connect = (userId: string, account: string) =>
      t.api('POST', `/api/v1/projects/${projectId}/credentials`, {
        body: {
          integration: 'stripe',
          userId,
          providerAccountId: account,
          auth: { apiKey: `sk_test_${account}` },
        },
      });

    before(async () => {
      t = await startTestHookyard(kind);
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'wf-int' } })).body.id;
    });
    after(async () => {
      await t.cleanup();
    });

    it('starts integration-enabled workflows once per new credential, for its user only', async () => {
      const id = await createDeployed({
        name: 'on stripe',
        trigger: { type: 'integrationEnabled', integration: 'stripe' },
        steps: [{ id: 'hello', type: 'code', code: 'function handler(i) { return i.trigger }' }],
      });
      assert.equal((await enable(id, 'alice')).status, 204);
      assert.equal((await enable(id, 'bob')).status, 204);
      const created = await connect('alice', 'acct_a1');
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const runs = await executions(id, 'alice');
      assert.equal(runs.length, 1, JSON.stringify(runs));
      assert.equal(runs[0]?.userId, 'alice');
      assert.deepEqual(await executions(id, 'bob'), []);

      // The same account again is refused and starts nothing; another account is a new credential.
      assert.equal((await connect('alice', 'acct_a1')).status, 409);
      await sleep(200);
      assert.equal((await executions(id, 'alice')).length, 1);
      assert.equal((await connect('alice', 'acct_a2')).status, 201);
      assert.equal((await executions(id, 'alice')).length, 2);
      // A user who did not enable the workflow gets no execution from their credential.
      assert.equal((await connect('carol', 'acct_c1')).status, 201);
      assert.deepEqual(await executions(id, 'carol'), []);

      const detail = await t.api('GET', `/api/v1/projects/${projectId}/executions/${runs[0]?.id}`);
      assert.equal(detail.body.trigger?.credentialId, created.body.id);
    });

    it('runs a workflow tied to an integration only for users with a credential for it', async () => {
      const id = await createDeployed({
        name: 'tied to stripe',
        integration: 'stripe',
        trigger: { type: 'appEvent', event: 'Invoice Paid' },
        steps: [{ id: 'hello', type: 'code', code: 'function handler(i) { return 1 }' }],
      });
      const refused = await enable(id, 'dave');
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.equal(refused.body.code, 'conflict');
      assert.match(refused.body.detail, /credential for integration "stripe", and user dave has none/);

      assert.equal((await connect('erin', 'acct_e1')).status, 201);
      assert.equal((await enable(id, 'erin')).status, 204);
      // Erin enabled it while connected; her credential goes away, and the trigger skips her.
      const creds = await t.api('GET', `/api/v1/projects/${projectId}/credentials?userId=erin`);
      const send = (userId: string) =>
        t.api('POST', `/api/v1/projects/${projectId}/app-events/trigger`, {
          body: { name: 'Invoice Paid', userId, payload: {} },
        });
      const first = await send('erin');
      assert.ok(first.status < 300, JSON.stringify(first.body));
      assert.equal((await executions(id, 'erin')).length, 1);
      for (const c of creds.body.items) {
        assert.equal(
          (await t.api('DELETE', `/api/v1/projects/${projectId}/credentials/${c.id}`)).status,
          200,
        );
      }
      const second = await send('erin');
      assert.ok(second.status < 300, JSON.stringify(second.body));
      assert.equal((await executions(id, 'erin')).length, 1);
    });
  });
}
