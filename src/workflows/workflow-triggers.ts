import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { type ExecutionId, isId, newId, type ProjectId } from '../domain/ids.ts';
import type { Store } from '../store/store.ts';
import type { ExecutionRecord, WorkflowRecord } from '../store/workflow-store.ts';
import { requestRuleFailures } from './request-rules.ts';
import type { WorkflowDocument } from './workflow-document.ts';
import type { WorkflowRunner } from './workflow-runner.ts';

/**
 * Where triggers start executions. Every kind comes through `fire` (project, user, trigger type and
 * key, trigger input): app events and requests here, and the webhook and integration-enabled
 * triggers from their own areas. Executions are committed before `fire` resolves; running them is
 * the runner's.
 */
export interface WorkflowTriggers {
  fire(
    projectId: ProjectId,
    userId: string | null,
    trigger: { type: string; key?: string },
    input: unknown,
  ): Promise<ExecutionId[]>;
  /** Starts one execution of these workflows each (their current versions), in one commit. */
  start(
    projectId: ProjectId,
    userId: string | null,
    workflows: readonly Pick<WorkflowRecord, 'id' | 'version'>[],
    input: unknown,
    runKeys?: readonly (string | null)[],
  ): Promise<ExecutionId[]>;
  appEvent(projectId: ProjectId, userId: string, name: string, payload: unknown): Promise<ExecutionId[]>;
  request(
    projectId: ProjectId,
    userId: string,
    workflowId: string,
    request: { query: Record<string, unknown>; headers: Record<string, unknown>; body: unknown },
    waitMs: number,
  ): Promise<{
    executionId: ExecutionId;
    response: { status: number; headers: Record<string, string>; body: unknown } | null;
    responds: boolean;
  }>;
}

export function createWorkflowTriggers(deps: {
  store: Store;
  clock: Clock;
  runner: WorkflowRunner | null;
}): WorkflowTriggers {
  const { store, clock, runner } = deps;

  const triggers: WorkflowTriggers = {
    async start(projectId, userId, workflows, input, runKeys) {
      if (workflows.length === 0) return [];
      const nowMs = clock.nowMs();
      const rows: ExecutionRecord[] = workflows.map((w, i) => ({
        id: newId('execution', nowMs),
        projectId,
        workflowId: w.id,
        version: w.version,
        userId,
        status: 'running',
        triggerInput: input,
        response: null,
        error: null,
        runKey: runKeys?.[i] ?? null,
        nextRunAtMs: nowMs,
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
        finishedAtMs: null,
      }));
      const ids = await store.insertExecutions(rows);
      if (ids.length > 0) runner?.wake();
      return ids;
    },
    async fire(projectId, userId, trigger, input) {
      const workflows = await store.findTriggeredWorkflows(projectId, {
        triggerType: trigger.type,
        ...(trigger.key !== undefined ? { triggerKey: trigger.key } : {}),
        ...(userId !== null ? { userId } : {}),
      });
      return triggers.start(projectId, userId, workflows, input);
    },
    async appEvent(projectId, userId, name, payload) {
      const definition = await store.getAppEvent(projectId, name);
      if (definition?.validate) {
        const problems = shapeMismatches(definition.schema, payload, 'payload');
        if (problems.length > 0) {
          throw new HookyardError(
            'validation_failed',
            `the payload does not match app event "${name}": ${problems.join('; ')}`,
          );
        }
      }
      const nowMs = clock.nowMs();
      const input = { event: name, payload, receivedAt: new Date(nowMs).toISOString() };
      const resumed = await store.resumeWaitingSteps(
        projectId,
        userId,
        name,
        (stepInput) => matches((stepInput as { match?: Record<string, unknown> })?.match ?? {}, payload),
        { timedOut: false, event: { name, payload } },
        nowMs,
      );
      if (resumed.length > 0) runner?.wake();
      return triggers.fire(projectId, userId, { type: 'appEvent', key: name }, input);
    },
    async request(projectId, userId, workflowId, request, waitMs) {
      const workflow = isId('workflow', workflowId) ? await store.getWorkflow(projectId, workflowId) : null;
      if (workflow?.triggerType !== 'request' || !workflow.deployed) throw notFound(`workflow ${workflowId}`);
      const version = await store.getWorkflowVersion(projectId, workflow.id, workflow.version);
      const doc = version?.document as unknown as WorkflowDocument | undefined;
      if (doc?.trigger.type !== 'request') throw notFound(`workflow ${workflowId}`);
      const failures = requestRuleFailures(doc.trigger.validation, request);
      if (failures.length > 0) {
        throw new HookyardError(
          'validation_failed',
          `the request breaks the workflow's rules: ${failures.join('; ')}`,
        );
      }
      const [executionId] = await triggers.start(projectId, userId, [workflow], request);
      if (!executionId) throw new Error('the execution was not stored');
      const responds = JSON.stringify(doc.steps).includes('"type":"respond"');
      if (!responds || !runner) return { executionId, response: null, responds };
      const response = (await runner.waitForResponse(executionId, projectId, waitMs)) as {
        status: number;
        headers: Record<string, string>;
        body: unknown;
      } | null;
      return { executionId, response, responds };
    },
  };
  return triggers;
}

/** A waitForEvent step's match: each dotted path of the payload equals the rendered value. */
export function matches(match: Record<string, unknown>, payload: unknown): boolean {
  for (const [path, expected] of Object.entries(match)) {
    let current: unknown = payload;
    for (const segment of path.replace(/^payload\./, '').split('.')) {
      current =
        current !== null && typeof current === 'object'
          ? (current as Record<string, unknown>)[segment]
          : undefined;
    }
    if (JSON.stringify(current) !== JSON.stringify(expected) && String(current) !== String(expected))
      return false;
  }
  return true;
}

/** Where a live payload differs in shape from the app event's example (types, missing fields). */
export function shapeMismatches(example: unknown, value: unknown, at: string): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (example === null || example === undefined) return [];
  if (kind(example) !== kind(value)) return [`${at}: expected ${kind(example)}, got ${kind(value)}`];
  if (kind(example) === 'object') {
    const out: string[] = [];
    for (const [k, v] of Object.entries(example as Record<string, unknown>)) {
      const actual = (value as Record<string, unknown>)[k];
      if (actual === undefined) out.push(`${at}.${k}: is required`);
      else out.push(...shapeMismatches(v, actual, `${at}.${k}`));
    }
    return out;
  }
  return [];
}
