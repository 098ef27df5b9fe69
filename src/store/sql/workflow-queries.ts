import type { ExecutionId, ProjectId, WorkflowId } from '../../domain/ids.ts';
import type { Page } from '../page.ts';
import type {
  AppEventRecord,
  ClaimedExecution,
  ExecutionRecord,
  ExecutionStatus,
  StepRunRecord,
  StepRunStatus,
  WorkflowRecord,
  WorkflowStore,
} from '../workflow-store.ts';
import type { Db } from './db.ts';
import type { SqlExecutor, SqlValue } from './sql-executor.ts';

type Num = number | string;
interface WorkflowRow {
  id: string;
  project_id: string;
  name: string;
  version: Num;
  deployed: Num;
  trigger_type: string;
  trigger_key: string | null;
  created_at_ms: Num;
  updated_at_ms: Num;
}
interface ExecutionRow {
  id: string;
  project_id: string;
  workflow_id: string;
  version: Num;
  user_id: string | null;
  status: string;
  trigger_input: string;
  response: string | null;
  error: string | null;
  run_key: string | null;
  next_run_at_ms: Num;
  created_at_ms: Num;
  updated_at_ms: Num;
  finished_at_ms: Num | null;
}
interface StepRow {
  execution_id: string;
  step_key: string;
  step_id: string;
  kind: string;
  status: string;
  input: string | null;
  output: string | null;
  attempts: Num;
  error: string | null;
  wait_event: string | null;
  wake_at_ms: Num | null;
  seq: Num;
  started_at_ms: Num;
  finished_at_ms: Num | null;
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
const parsed = (text: string | null): unknown => (text === null ? null : JSON.parse(text));
const numOrNull = (v: Num | null): number | null => (v === null ? null : Number(v));

const toWorkflow = (r: WorkflowRow): WorkflowRecord => ({
  id: r.id as WorkflowId,
  projectId: r.project_id as ProjectId,
  name: r.name,
  version: Number(r.version),
  deployed: Number(r.deployed) === 1,
  triggerType: r.trigger_type,
  triggerKey: r.trigger_key,
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});
const toExecution = (r: ExecutionRow): ExecutionRecord => ({
  id: r.id as ExecutionId,
  projectId: r.project_id as ProjectId,
  workflowId: r.workflow_id as WorkflowId,
  version: Number(r.version),
  userId: r.user_id,
  status: r.status as ExecutionStatus,
  triggerInput: JSON.parse(r.trigger_input),
  response: parsed(r.response),
  error: parsed(r.error),
  runKey: r.run_key,
  nextRunAtMs: Number(r.next_run_at_ms),
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
  finishedAtMs: numOrNull(r.finished_at_ms),
});
const toStep = (r: StepRow): StepRunRecord => ({
  executionId: r.execution_id as ExecutionId,
  stepKey: r.step_key,
  stepId: r.step_id,
  kind: r.kind,
  status: r.status as StepRunStatus,
  input: parsed(r.input),
  output: parsed(r.output),
  attempts: Number(r.attempts),
  error: parsed(r.error),
  waitEvent: r.wait_event,
  wakeAtMs: numOrNull(r.wake_at_ms),
  seq: Number(r.seq),
  startedAtMs: Number(r.started_at_ms),
  finishedAtMs: numOrNull(r.finished_at_ms),
});

const ACTIVE = "status IN ('running', 'waiting')";
const WORKFLOW_COLUMNS =
  'w.id, w.project_id, w.name, w.version, w.deployed, w.trigger_type, w.trigger_key, w.created_at_ms, w.updated_at_ms';

async function insertVersion(
  tx: SqlExecutor,
  projectId: string,
  id: string,
  version: number,
  document: Record<string, unknown>,
  nowMs: number,
): Promise<void> {
  await tx.run(
    'INSERT INTO workflow_versions (workflow_id, version, project_id, document, created_at_ms) VALUES (?, ?, ?, ?, ?)',
    [id, version, projectId, JSON.stringify(document), nowMs],
  );
}

export function createWorkflowQueries(db: Db): WorkflowStore {
  // PostgreSQL: claims from several processes skip each other's rows instead of waiting on them.
  const skipLocked = db.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
  return {
    async insertWorkflow(w, document) {
      await db.transaction(async (tx) => {
        await tx.run(
          'INSERT INTO workflows (id, project_id, name, version, deployed, trigger_type, trigger_key, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [
            w.id,
            w.projectId,
            w.name,
            w.version,
            w.deployed ? 1 : 0,
            w.triggerType,
            w.triggerKey,
            w.createdAtMs,
            w.updatedAtMs,
          ],
        );
        await insertVersion(tx, w.projectId, w.id, w.version, document, w.createdAtMs);
      });
    },
    async addWorkflowVersion(projectId, id, change, nowMs) {
      return db.transaction(async (tx) => {
        const row = await tx.get<WorkflowRow>(
          `SELECT ${WORKFLOW_COLUMNS} FROM workflows w WHERE w.project_id = ? AND w.id = ? AND w.deleted_at_ms IS NULL${db.dialect === 'postgres' ? ' FOR UPDATE' : ''}`,
          [projectId, id],
        );
        if (!row) return null;
        const version = Number(row.version) + 1;
        await tx.run(
          'UPDATE workflows SET name = ?, version = ?, trigger_type = ?, trigger_key = ?, updated_at_ms = ? WHERE id = ?',
          [change.name, version, change.triggerType, change.triggerKey, nowMs, id],
        );
        await insertVersion(tx, projectId, id, version, change.document, nowMs);
        return {
          ...toWorkflow(row),
          name: change.name,
          version,
          triggerType: change.triggerType,
          triggerKey: change.triggerKey,
          updatedAtMs: nowMs,
        };
      });
    },
    async getWorkflow(projectId, id) {
      const row = await db.get<WorkflowRow>(
        `SELECT ${WORKFLOW_COLUMNS} FROM workflows w WHERE w.project_id = ? AND w.id = ? AND w.deleted_at_ms IS NULL`,
        [projectId, id],
      );
      return row ? toWorkflow(row) : null;
    },
    async getWorkflowVersion(projectId, id, version) {
      const row = await db.get<{ document: string; created_at_ms: Num }>(
        'SELECT document, created_at_ms FROM workflow_versions WHERE project_id = ? AND workflow_id = ? AND version = ?',
        [projectId, id, version],
      );
      if (!row) return null;
      return {
        workflowId: id,
        version,
        document: JSON.parse(row.document) as Record<string, unknown>,
        createdAtMs: Number(row.created_at_ms),
      };
    },
    async listWorkflows(projectId, { limit, after }): Promise<Page<WorkflowRecord>> {
      const rows = await db.all<WorkflowRow>(
        `SELECT ${WORKFLOW_COLUMNS} FROM workflows w WHERE w.project_id = ? AND w.deleted_at_ms IS NULL AND w.id > ? ORDER BY w.id LIMIT ?`,
        [projectId, after ?? '', limit + 1],
      );
      const items = rows.slice(0, limit).map(toWorkflow);
      return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
    },
    async deleteWorkflow(projectId, id, nowMs) {
      const { changes } = await db.run(
        'UPDATE workflows SET deleted_at_ms = ?, deployed = 0, updated_at_ms = ? WHERE project_id = ? AND id = ? AND deleted_at_ms IS NULL',
        [nowMs, nowMs, projectId, id],
      );
      return changes > 0;
    },
    async setWorkflowDeployed(projectId, id, deployed, nowMs) {
      const { changes } = await db.run(
        'UPDATE workflows SET deployed = ?, updated_at_ms = ? WHERE project_id = ? AND id = ? AND deleted_at_ms IS NULL',
        [deployed ? 1 : 0, nowMs, projectId, id],
      );
      return changes > 0;
    },
    async setWorkflowUserEnabled(projectId, workflowId, userId, enabled, nowMs) {
      await db.run(
        'INSERT INTO workflow_users (workflow_id, user_id, project_id, enabled, updated_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (workflow_id, user_id) DO UPDATE SET enabled = excluded.enabled, updated_at_ms = excluded.updated_at_ms',
        [workflowId, userId, projectId, enabled ? 1 : 0, nowMs],
      );
    },
    async findTriggeredWorkflows(projectId, { triggerType, triggerKey, userId }) {
      const params: SqlValue[] = [projectId, triggerType];
      let filter = '';
      if (triggerKey !== undefined) {
        filter += ' AND w.trigger_key = ?';
        params.push(triggerKey);
      }
      if (userId !== undefined) {
        filter +=
          ' AND EXISTS (SELECT 1 FROM workflow_users u WHERE u.workflow_id = w.id AND u.user_id = ? AND u.enabled = 1)';
        params.push(userId);
      }
      const rows = await db.all<WorkflowRow & { document: string }>(
        `SELECT ${WORKFLOW_COLUMNS}, v.document FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version
         WHERE w.project_id = ? AND w.trigger_type = ? AND w.deployed = 1 AND w.deleted_at_ms IS NULL${filter} ORDER BY w.id`,
        params,
      );
      return rows.map((r) => ({
        ...toWorkflow(r),
        document: JSON.parse(r.document) as Record<string, unknown>,
      }));
    },
    async listDeployedWorkflows(triggerType) {
      const rows = await db.all<WorkflowRow & { document: string }>(
        `SELECT ${WORKFLOW_COLUMNS}, v.document FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version
         WHERE w.trigger_type = ? AND w.deployed = 1 AND w.deleted_at_ms IS NULL ORDER BY w.id`,
        [triggerType],
      );
      return rows.map((r) => ({
        ...toWorkflow(r),
        document: JSON.parse(r.document) as Record<string, unknown>,
      }));
    },
    async listEnabledUsers(projectId, workflowId) {
      const rows = await db.all<{ user_id: string }>(
        'SELECT user_id FROM workflow_users WHERE project_id = ? AND workflow_id = ? AND enabled = 1 ORDER BY user_id',
        [projectId, workflowId],
      );
      return rows.map((r) => r.user_id);
    },

    async putAppEvent(e) {
      await db.run(
        'INSERT INTO app_events (project_id, name, schema, validate, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, name) DO UPDATE SET schema = excluded.schema, validate = excluded.validate, updated_at_ms = excluded.updated_at_ms',
        [e.projectId, e.name, JSON.stringify(e.schema), e.validate ? 1 : 0, e.createdAtMs, e.updatedAtMs],
      );
    },
    async getAppEvent(projectId, name) {
      const row = await db.get<AppEventRow>('SELECT * FROM app_events WHERE project_id = ? AND name = ?', [
        projectId,
        name,
      ]);
      return row ? toAppEvent(row) : null;
    },
    async listAppEvents(projectId) {
      const rows = await db.all<AppEventRow>('SELECT * FROM app_events WHERE project_id = ? ORDER BY name', [
        projectId,
      ]);
      return rows.map(toAppEvent);
    },

    async insertExecutions(executions) {
      if (executions.length === 0) return [];
      return db.transaction(async (tx) => {
        const inserted: ExecutionId[] = [];
        for (const e of executions) {
          const { changes } = await tx.run(
            `INSERT INTO workflow_executions (id, project_id, workflow_id, version, user_id, status, trigger_input, response, error, run_key, next_run_at_ms, created_at_ms, updated_at_ms, finished_at_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_key) DO NOTHING`,
            [
              e.id,
              e.projectId,
              e.workflowId,
              e.version,
              e.userId,
              e.status,
              JSON.stringify(e.triggerInput ?? null),
              json(e.response),
              json(e.error),
              e.runKey,
              e.nextRunAtMs,
              e.createdAtMs,
              e.updatedAtMs,
              e.finishedAtMs,
            ],
          );
          if (changes > 0) inserted.push(e.id);
        }
        return inserted;
      });
    },
    async claimDueExecutions({ nowMs, leaseMs, holder, limit }) {
      const rows = await db.all<ExecutionRow & { document: string }>(
        `UPDATE workflow_executions SET leased_until_ms = ?, lease_holder = ?, status = 'running'
         WHERE id IN (SELECT id FROM workflow_executions WHERE ${ACTIVE} AND next_run_at_ms <= ?
           AND (leased_until_ms IS NULL OR leased_until_ms <= ?) ORDER BY next_run_at_ms LIMIT ?${skipLocked})
         RETURNING *, (SELECT document FROM workflow_versions v WHERE v.workflow_id = workflow_executions.workflow_id AND v.version = workflow_executions.version) AS document`,
        [nowMs + leaseMs, holder, nowMs, nowMs, limit],
      );
      return rows.map(
        (r): ClaimedExecution => ({
          ...toExecution(r),
          document: JSON.parse(r.document) as Record<string, unknown>,
        }),
      );
    },
    async commitExecutionProgress(items) {
      if (items.length === 0) return [];
      return db.transaction(async (tx) => {
        const out: boolean[] = [];
        for (const p of items) {
          const e = p.execution;
          const sets = ['status = ?', 'next_run_at_ms = ?', 'leased_until_ms = ?', 'updated_at_ms = ?'];
          const params: SqlValue[] = [e.status, e.nextRunAtMs, e.leasedUntilMs, p.nowMs];
          if (e.leasedUntilMs === null) sets.push('lease_holder = NULL');
          if (e.response !== undefined) {
            sets.push('response = ?');
            params.push(json(e.response));
          }
          if (e.error !== undefined) {
            sets.push('error = ?');
            params.push(json(e.error));
          }
          if (e.finishedAtMs !== undefined) {
            sets.push('finished_at_ms = ?');
            params.push(e.finishedAtMs);
          }
          const { changes } = await tx.run(
            `UPDATE workflow_executions SET ${sets.join(', ')} WHERE id = ? AND lease_holder = ? AND ${ACTIVE}`,
            [...params, p.executionId, p.holder],
          );
          if (changes === 0) {
            out.push(false);
            continue;
          }
          const s = p.step;
          if (s) {
            await tx.run(
              `INSERT INTO workflow_step_runs (execution_id, step_key, project_id, step_id, kind, status, input, output, attempts, error, wait_event, wake_at_ms, seq, started_at_ms, finished_at_ms)
               SELECT ?, ?, project_id, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COUNT(*) FROM workflow_step_runs WHERE execution_id = ?), ?, ? FROM workflow_executions WHERE id = ?
               ON CONFLICT (execution_id, step_key) DO UPDATE SET status = excluded.status, input = excluded.input, output = excluded.output,
                 attempts = excluded.attempts, error = excluded.error, wait_event = excluded.wait_event, wake_at_ms = excluded.wake_at_ms,
                 finished_at_ms = excluded.finished_at_ms`,
              [
                p.executionId,
                s.stepKey,
                s.stepId,
                s.kind,
                s.status,
                json(s.input),
                json(s.output),
                s.attempts,
                json(s.error),
                s.waitEvent,
                s.wakeAtMs,
                p.executionId,
                s.startedAtMs,
                s.finishedAtMs,
                p.executionId,
              ],
            );
          }
          out.push(true);
        }
        return out;
      });
    },
    async getExecution(projectId, id) {
      const row = await db.get<ExecutionRow>(
        'SELECT * FROM workflow_executions WHERE project_id = ? AND id = ?',
        [projectId, id],
      );
      return row ? toExecution(row) : null;
    },
    async listStepRuns(projectId, executionId) {
      const rows = await db.all<StepRow>(
        'SELECT * FROM workflow_step_runs WHERE project_id = ? AND execution_id = ? ORDER BY seq',
        [projectId, executionId],
      );
      return rows.map(toStep);
    },
    async listExecutions(projectId, filter, { limit, after }) {
      const params: SqlValue[] = [projectId, after ?? ''];
      let where = '';
      if (filter.workflowId !== undefined) {
        where += ' AND workflow_id = ?';
        params.push(filter.workflowId);
      }
      if (filter.userId !== undefined) {
        where += ' AND user_id = ?';
        params.push(filter.userId);
      }
      if (filter.status !== undefined) {
        where += ' AND status = ?';
        params.push(filter.status);
      }
      if (filter.fromMs !== undefined) {
        where += ' AND created_at_ms >= ?';
        params.push(filter.fromMs);
      }
      if (filter.toMs !== undefined) {
        where += ' AND created_at_ms < ?';
        params.push(filter.toMs);
      }
      params.push(limit + 1);
      const rows = await db.all<ExecutionRow>(
        `SELECT * FROM workflow_executions WHERE project_id = ? AND id > ?${where} ORDER BY id LIMIT ?`,
        params,
      );
      const items = rows.slice(0, limit).map(toExecution);
      return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
    },
    async hasActiveExecution(workflowId, userId) {
      const row = await db.get(
        `SELECT 1 AS one FROM workflow_executions WHERE workflow_id = ? AND ${userId === null ? 'user_id IS NULL' : 'user_id = ?'} AND ${ACTIVE} LIMIT 1`,
        userId === null ? [workflowId] : [workflowId, userId],
      );
      return row !== undefined;
    },
    async cancelExecution(projectId, id, nowMs) {
      const { changes } = await db.run(
        `UPDATE workflow_executions SET status = 'canceled', leased_until_ms = NULL, lease_holder = NULL, finished_at_ms = ?, updated_at_ms = ?
         WHERE project_id = ? AND id = ? AND ${ACTIVE}`,
        [nowMs, nowMs, projectId, id],
      );
      return changes > 0;
    },
    async resumeWaitingSteps(projectId, userId, eventName, accepts, output, nowMs) {
      return db.transaction(async (tx) => {
        const rows = await tx.all<StepRow>(
          `SELECT s.* FROM workflow_step_runs s JOIN workflow_executions e ON e.id = s.execution_id
           WHERE s.project_id = ? AND s.wait_event = ? AND s.status = 'waiting' AND e.user_id = ? AND e.${ACTIVE}`,
          [projectId, eventName, userId],
        );
        const resumed: ExecutionId[] = [];
        for (const row of rows) {
          if (!accepts(parsed(row.input))) continue;
          await tx.run(
            `UPDATE workflow_step_runs SET status = 'succeeded', output = ?, wait_event = NULL, wake_at_ms = NULL, finished_at_ms = ?
             WHERE execution_id = ? AND step_key = ?`,
            [JSON.stringify(output), nowMs, row.execution_id, row.step_key],
          );
          await tx.run('UPDATE workflow_executions SET next_run_at_ms = ?, updated_at_ms = ? WHERE id = ?', [
            nowMs,
            nowMs,
            row.execution_id,
          ]);
          resumed.push(row.execution_id as ExecutionId);
        }
        return resumed;
      });
    },
  };
}

interface AppEventRow {
  project_id: string;
  name: string;
  schema: string;
  validate: Num;
  created_at_ms: Num;
  updated_at_ms: Num;
}
const toAppEvent = (r: AppEventRow): AppEventRecord => ({
  projectId: r.project_id as ProjectId,
  name: r.name,
  schema: JSON.parse(r.schema),
  validate: Number(r.validate) === 1,
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});
