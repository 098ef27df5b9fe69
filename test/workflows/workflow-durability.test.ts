import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startReceiver } from '../delivery/receiver.ts';
import { spawnHookyard } from '../helpers/process.ts';
import { createTestDatabase, STORE_KINDS } from '../helpers/stores.ts';

/**
 * A process killed with SIGKILL in the middle of a step: another process resumes the execution at
 * that step once the lease has run out, and never runs a step whose success was committed.
 */
for (const kind of STORE_KINDS) {
  describe(`workflow executions survive SIGKILL (${kind})`, () => {
    it('resumes at the next step on another process without repeating a committed one', async () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hy-wf-kill-'));
      const db = kind === 'postgres' ? await createTestDatabase() : null;
      const adminKey = `hya_wfkill_${randomBytes(6).toString('hex')}`;
      const receiver = await startReceiver();
      const env: Record<string, string> = {
        HOOKYARD_ADMIN_KEY: adminKey,
        HOOKYARD_LOG_LEVEL: 'error',
        HOOKYARD_DATA_DIR: dataDir,
        HOOKYARD_PORT: '0',
        HOOKYARD_EGRESS_ALLOW: '127.0.0.1/32',
        HOOKYARD_WORKFLOW_LEASE_MS: '2000',
        ...(db ? { HOOKYARD_DATABASE_URL: db.url } : {}),
      };
      try {
        // The second call hangs until the first process is gone.
        let hang = true;
        receiver.decide((r) => (r.path === '/second' && hang ? { hang: true } : undefined));
        const first = spawnHookyard(['start'], env);
        const [, url] = await first.waitFor(/listening on (http:\/\/\S+)/);
        const api = async (base: string, method: string, p: string, body?: unknown) => {
          const r = await fetch(`${base}${p}`, {
            method,
            headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return (await r.json().catch(() => null)) as any;
        };
        const project = await api(url!, 'POST', '/api/v1/projects', { name: 'kill' });
        const workflow = await api(url!, 'POST', `/api/v1/projects/${project.id}/workflows`, {
          name: 'two calls',
          trigger: { type: 'appEvent', event: 'Go' },
          steps: [
            { id: 'first', type: 'http', method: 'POST', url: `${receiver.url}/first`, body: { n: 1 } },
            {
              id: 'second',
              type: 'http',
              method: 'POST',
              url: `${receiver.url}/second`,
              idempotencyKey: true,
            },
            { id: 'third', type: 'http', method: 'POST', url: `${receiver.url}/third` },
          ],
        });
        await api(url!, 'POST', `/api/v1/projects/${project.id}/workflows/${workflow.id}/deploy`);
        await api(url!, 'POST', `/api/v1/projects/${project.id}/workflows/${workflow.id}/users/u1/enable`);
        const sent = await api(url!, 'POST', `/api/v1/projects/${project.id}/app-events/trigger`, {
          name: 'Go',
          userId: 'u1',
        });
        const [executionId] = sent.executionIds;
        assert.ok(executionId);
        const deadline = Date.now() + 15_000;
        while (!receiver.received.some((r) => r.path === '/second') && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        first.child.kill('SIGKILL');
        await first.exited;
        hang = false;

        const second = spawnHookyard(['start'], env);
        const [, url2] = await second.waitFor(/listening on (http:\/\/\S+)/);
        try {
          let execution: any;
          while (Date.now() < deadline + 15_000) {
            execution = await api(url2!, 'GET', `/api/v1/projects/${project.id}/executions/${executionId}`);
            if (execution.status === 'completed' || execution.status === 'failed') break;
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.equal(execution.status, 'completed', JSON.stringify(execution));
          assert.deepEqual(
            execution.steps.map((s: any) => [s.stepId, s.status, s.attempts]),
            [
              ['first', 'succeeded', 1],
              ['second', 'succeeded', 1],
              ['third', 'succeeded', 1],
            ],
          );
          const paths = receiver.received.map((r) => r.path);
          assert.equal(paths.filter((p) => p === '/first').length, 1, 'a committed step never runs again');
          // The step in flight when the process died ran again, with the same idempotency key.
          const seconds = receiver.received.filter((r) => r.path === '/second');
          assert.equal(seconds.length, 2);
          assert.equal(seconds[0]?.headers['idempotency-key'], seconds[1]?.headers['idempotency-key']);
          assert.equal(paths.filter((p) => p === '/third').length, 1);
        } finally {
          second.child.kill('SIGTERM');
          await second.exited;
        }
      } finally {
        await receiver.close();
        await db?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}
