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
    options?: { runKey?: string },
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
    async fire(projectId, userId, trigger, input, options) {
      const found = await store.findTriggeredWorkflows(projectId, {
        triggerType: trigger.type,
        ...(trigger.key !== undefined ? { triggerKey: trigger.key } : {}),
        ...(userId !== null ? { userId } : {}),
      });
      const workflows: typeof found = [];
      for (const w of found) {
        const integration = (w.document as { integration?: string }).integration;
        if (await userMayRun(store, projectId, userId, integration)) workflows.push(w);
      }
      // A run key per workflow makes a repeated fire (the same credential, the same event) start nothing.
      const runKeys =
        options?.runKey !== undefined ? workflows.map((w) => `${w.id}:${options.runKey}`) : undefined;
      return triggers.start(projectId, userId, workflows, input, runKeys);
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
      if (!(await userMayRun(store, projectId, userId, doc.integration))) {
        throw new HookyardError(
          'conflict',
          missingCredentialDetail(workflow.id, userId, doc.integration ?? ''),
        );
      }
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

/**
 * A workflow tied to an integration runs only for users with a credential for it (of any status:
 * a credential that needs reauthorization still belongs to the user, and its steps say so when they
 * use it).
 */
export async function userMayRun(
  store: Pick<Store, 'listCredentials'>,
  projectId: ProjectId,
  userId: string | null,
  integration: string | undefined,
): Promise<boolean> {
  if (integration === undefined) return true;
  if (userId === null) return false;
  const page = await store.listCredentials(projectId, { userId, integration, limit: 1 });
  return page.items.length > 0;
}

export function missingCredentialDetail(workflowId: string, userId: string, integration: string): string {
  return `workflow ${workflowId} runs only for users with a credential for integration "${integration}", and user ${userId} has none: connect the integration for this user first`;
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
