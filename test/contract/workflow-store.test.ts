import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newId, type ProjectId } from '../../src/domain/ids.ts';
import type { ExecutionRecord, WorkflowRecord } from '../../src/store/workflow-store.ts';
import { openTestStore, STORE_KINDS, seedProject, type TestStore } from '../helpers/stores.ts';

function workflow(projectId: ProjectId, extra: Partial<WorkflowRecord> = {}): WorkflowRecord {
  return {
    id: newId('workflow'),
    projectId,
    name: 'w',
    version: 1,
    deployed: true,
    triggerType: 'appEvent',
    triggerKey: 'Contact Created',
    createdAtMs: 1000,
    updatedAtMs: 1000,
    ...extra,
  };
}

function execution(w: WorkflowRecord, extra: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    id: newId('execution'),
    projectId: w.projectId,
    workflowId: w.id,
    version: w.version,
    userId: 'u1',
    status: 'running',
    triggerInput: { payload: { a: 1 } },
    response: null,
    error: null,
    runKey: null,
    nextRunAtMs: 1000,
    createdAtMs: 1000,
    updatedAtMs: 1000,
    finishedAtMs: null,
    ...extra,
  };
}

for (const kind of STORE_KINDS) {
  describe(`workflow store contract (${kind})`, () => {
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

    it('keeps every version; the current one is what triggers find, per project and per enabled user', async () => {
      const w = workflow(a);
      await t.store.insertWorkflow(w, { v: 1 });
      const updated = await t.store.addWorkflowVersion(
        a,
        w.id,
        { name: 'w2', triggerType: 'appEvent', triggerKey: 'Contact Created', document: { v: 2 } },
        2000,
      );
      assert.equal(updated?.version, 2);
      assert.equal(
        await t.store.addWorkflowVersion(
          b,
          w.id,
          { name: 'x', triggerType: 'appEvent', triggerKey: null, document: {} },
          1,
        ),
        null,
      );
      assert.deepEqual((await t.store.getWorkflowVersion(a, w.id, 1))?.document, { v: 1 });
      assert.deepEqual((await t.store.getWorkflowVersion(a, w.id, 2))?.document, { v: 2 });
      assert.equal(await t.store.getWorkflow(b, w.id), null);
      await t.store.setWorkflowUserEnabled(a, w.id, 'u1', true, 1);
      await t.store.setWorkflowUserEnabled(a, w.id, 'u2', true, 1);
      await t.store.setWorkflowUserEnabled(a, w.id, 'u2', false, 2);
      const found = await t.store.findTriggeredWorkflows(a, {
        triggerType: 'appEvent',
        triggerKey: 'Contact Created',
        userId: 'u1',
      });
      assert.deepEqual(
        found.map((f) => [f.id, f.document]),
        [[w.id, { v: 2 }]],
      );
      assert.equal(
        (
          await t.store.findTriggeredWorkflows(a, {
            triggerType: 'appEvent',
            triggerKey: 'Contact Created',
            userId: 'u2',
          })
        ).length,
        0,
      );
      assert.equal(
        (
          await t.store.findTriggeredWorkflows(b, {
            triggerType: 'appEvent',
            triggerKey: 'Contact Created',
            userId: 'u1',
          })
        ).length,
        0,
      );
      assert.deepEqual(await t.store.listEnabledUsers(a, w.id), ['u1']);
      assert.equal(await t.store.setWorkflowDeployed(a, w.id, false, 3), true);
      assert.equal(
        (await t.store.findTriggeredWorkflows(a, { triggerType: 'appEvent', userId: 'u1' })).length,
        0,
      );
      assert.equal(await t.store.deleteWorkflow(a, w.id, 4), true);
      assert.equal(await t.store.getWorkflow(a, w.id), null);
      // Versions stay for executions still running them.
      assert.deepEqual((await t.store.getWorkflowVersion(a, w.id, 1))?.document, { v: 1 });
    });

    it('a run key is stored once; claims lease each due execution to one holder; progress needs the lease', async () => {
      const w = workflow(a, { triggerType: 'schedule', triggerKey: null });
      await t.store.insertWorkflow(w, { steps: [] });
      const first = execution(w, { runKey: `${w.id}:u1:5000` });
      assert.deepEqual(await t.store.insertExecutions([first]), [first.id]);
      assert.deepEqual(await t.store.insertExecutions([execution(w, { runKey: `${w.id}:u1:5000` })]), []);
      const claimed = await t.store.claimDueExecutions({
        nowMs: 2000,
        leaseMs: 1000,
        holder: 'p1',
        limit: 10,
      });
      assert.deepEqual(
        claimed.map((c) => [c.id, c.document]),
        [[first.id, { steps: [] }]],
      );
      assert.equal(
        (await t.store.claimDueExecutions({ nowMs: 2500, leaseMs: 1000, holder: 'p2', limit: 10 })).length,
        0,
      );
      const step = {
        stepKey: 'a',
        stepId: 'a',
        kind: 'code',
        status: 'succeeded' as const,
        input: { x: 1 },
        output: { y: 2 },
        attempts: 1,
        error: null,
        waitEvent: null,
        wakeAtMs: null,
        startedAtMs: 2000,
        finishedAtMs: 2100,
      };
      const progress = {
        executionId: first.id,
        step,
        execution: { status: 'running' as const, nextRunAtMs: 2000, leasedUntilMs: 3000 },
        nowMs: 2100,
      };
      assert.deepEqual(
        await t.store.commitExecutionProgress([
          { ...progress, holder: 'p2' },
          { ...progress, holder: 'p1' },
        ]),
        [false, true],
      );
      // The lease ran out: another holder takes it over, and the first can no longer commit.
      const again = await t.store.claimDueExecutions({ nowMs: 3001, leaseMs: 1000, holder: 'p2', limit: 10 });
      assert.deepEqual(
        again.map((c) => c.id),
        [first.id],
      );
      assert.deepEqual(await t.store.commitExecutionProgress([{ ...progress, holder: 'p1' }]), [false]);
      const steps = await t.store.listStepRuns(a, first.id);
      assert.deepEqual(
        steps.map((s) => [s.stepKey, s.status, s.output, s.seq]),
        [['a', 'succeeded', { y: 2 }, 0]],
      );
      assert.deepEqual(await t.store.listStepRuns(b, first.id), []);
      assert.equal(await t.store.cancelExecution(b, first.id, 4000), false);
      assert.equal(await t.store.cancelExecution(a, first.id, 4000), true);
      assert.equal((await t.store.getExecution(a, first.id))?.status, 'canceled');
      assert.deepEqual(await t.store.commitExecutionProgress([{ ...progress, holder: 'p2' }]), [false]);
      assert.equal(await t.store.hasActiveExecution(w.id, 'u1'), false);
    });

    it('a waiting step resumes on an accepted event of its user only; executions list by filter in pages', async () => {
      const w = workflow(a, { triggerType: 'request', triggerKey: null });
      await t.store.insertWorkflow(w, {});
      const e1 = execution(w, { createdAtMs: 10 });
      const e2 = execution(w, { userId: 'u2', createdAtMs: 20 });
      await t.store.insertExecutions([e1, e2]);
      await t.store.claimDueExecutions({ nowMs: 5000, leaseMs: 1000, holder: 'p', limit: 10 });
      for (const e of [e1, e2]) {
        const ok = await t.store.commitExecutionProgress([
          {
            executionId: e.id,
            holder: 'p',
            step: {
              stepKey: 'wait',
              stepId: 'wait',
              kind: 'waitForEvent',
              status: 'waiting',
              input: { orderId: 7 },
              output: null,
              attempts: 1,
              error: null,
              waitEvent: 'Order Paid',
              wakeAtMs: 99_000,
              startedAtMs: 5000,
              finishedAtMs: null,
            },
            execution: { status: 'waiting', nextRunAtMs: 99_000, leasedUntilMs: null },
            nowMs: 5000,
          },
        ]);
        assert.deepEqual(ok, [true]);
      }
      assert.deepEqual(
        await t.store.resumeWaitingSteps(
          a,
          'u1',
          'Order Paid',
          (i) => (i as { orderId: number }).orderId === 8,
          {},
          6000,
        ),
        [],
      );
      assert.deepEqual(await t.store.resumeWaitingSteps(b, 'u1', 'Order Paid', () => true, {}, 6000), []);
      const resumed = await t.store.resumeWaitingSteps(
        a,
        'u1',
        'Order Paid',
        () => true,
        { paid: true },
        6000,
      );
      assert.deepEqual(resumed, [e1.id]);
      assert.equal((await t.store.getExecution(a, e1.id))?.nextRunAtMs, 6000);
      assert.deepEqual((await t.store.listStepRuns(a, e1.id))[0]?.output, { paid: true });
      assert.equal((await t.store.getExecution(a, e2.id))?.nextRunAtMs, 99_000);

      const page1 = await t.store.listExecutions(a, { workflowId: w.id }, { limit: 1 });
      assert.deepEqual(
        page1.items.map((e) => e.id),
        [[e1.id, e2.id].sort()[0]],
      );
      const page2 = await t.store.listExecutions(
        a,
        { workflowId: w.id },
        { limit: 1, after: page1.nextCursor as string },
      );
      assert.equal(page2.items.length, 1);
      assert.equal(page2.nextCursor, null);
      assert.deepEqual(
        (await t.store.listExecutions(a, { userId: 'u2' }, { limit: 10 })).items.map((e) => e.id),
        [e2.id],
      );
      assert.deepEqual(
        (
          await t.store.listExecutions(a, { fromMs: 15, toMs: 25, workflowId: w.id }, { limit: 10 })
        ).items.map((e) => e.id),
        [e2.id],
      );
      assert.equal((await t.store.listExecutions(b, {}, { limit: 10 })).items.length, 0);
    });
  });
}
