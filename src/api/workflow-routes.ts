import type { FastifyInstance } from 'fastify';
import type { Publisher } from '../delivery/publisher.ts';
import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { type ExecutionId, isId, type ProjectId, type WorkflowId } from '../domain/ids.ts';
import type { Store } from '../store/store.ts';
import type { ExecutionRecord, ExecutionStatus, StepRunRecord } from '../store/workflow-store.ts';
import { executionEvent } from '../workflows/execution-events.ts';
import type { WorkflowService } from '../workflows/workflow-service.ts';
import type { WorkflowTriggers } from '../workflows/workflow-triggers.ts';
import { authorizeProject } from './auth.ts';
import {
  bearerSecurity,
  errorResponses,
  errorSchema,
  listSchema,
  pagedQuery,
  pageSchema,
  projectIdParams,
} from './schemas.ts';

const workflowBody = {
  type: 'object',
  additionalProperties: true,
  description:
    'A workflow document { name, trigger, steps, integration? } as docs/workflow.schema.json describes (docs/workflows.md). Every problem is answered at once, by field path.',
} as const;

const workflowView = {
  type: 'object',
  required: ['id', 'name', 'version', 'deployed', 'trigger', 'steps', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'integer', description: 'the current version; each PUT adds one' },
    deployed: { type: 'boolean' },
    integration: { type: 'string' },
    trigger: { type: 'object', additionalProperties: true },
    steps: { type: 'array', items: { type: 'object', additionalProperties: true } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const workflowParams = {
  type: 'object',
  required: ['projectId', 'workflowId'],
  properties: { projectId: { type: 'string' }, workflowId: { type: 'string', description: 'wf_… id' } },
} as const;

const userParams = {
  type: 'object',
  required: ['projectId', 'workflowId', 'userId'],
  properties: {
    projectId: { type: 'string' },
    workflowId: { type: 'string' },
    userId: { type: 'string', minLength: 1, maxLength: 256, description: 'the project’s own user id' },
  },
} as const;

const appEventBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    schema: { description: 'an example payload (test data, and the shape checked when validate is true)' },
    validate: {
      type: 'boolean',
      default: false,
      description: 'check live payloads against the example’s shape',
    },
  },
} as const;

const appEventView = {
  type: 'object',
  required: ['name', 'schema', 'validate', 'createdAt', 'updatedAt'],
  properties: {
    name: { type: 'string' },
    schema: {},
    validate: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const stepView = {
  type: 'object',
  required: ['stepKey', 'stepId', 'type', 'status', 'attempts', 'startedAt'],
  properties: {
    stepKey: {
      type: 'string',
      description: 'the step’s place in the run: its id, or loop[2].send inside a forEach',
    },
    stepId: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string', enum: ['succeeded', 'failed', 'retrying', 'waiting'] },
    input: {},
    output: {},
    attempts: { type: 'integer' },
    error: {},
    nextAttemptAt: { type: ['string', 'null'], format: 'date-time' },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

const EXECUTION_STATUSES = ['running', 'waiting', 'completed', 'failed', 'canceled'];

const executionView = {
  type: 'object',
  required: ['id', 'workflowId', 'version', 'userId', 'status', 'trigger', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    workflowId: { type: 'string' },
    version: { type: 'integer', description: 'the workflow version it runs' },
    userId: { type: ['string', 'null'] },
    status: { type: 'string', enum: EXECUTION_STATUSES },
    trigger: { description: 'the trigger input (`trigger.*` in templates)' },
    response: { description: 'what a respond step answered' },
    error: {},
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    steps: { type: 'array', items: stepView },
  },
} as const;

const executionParams = {
  type: 'object',
  required: ['projectId', 'executionId'],
  properties: { projectId: { type: 'string' }, executionId: { type: 'string', description: 'exe_… id' } },
} as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function stepRunView(s: StepRunRecord) {
  return {
    stepKey: s.stepKey,
    stepId: s.stepId,
    type: s.kind,
    status: s.status,
    input: s.input,
    output: s.output,
    attempts: s.attempts,
    error: s.error,
    nextAttemptAt: s.status === 'retrying' || s.status === 'waiting' ? iso(s.wakeAtMs) : null,
    startedAt: new Date(s.startedAtMs).toISOString(),
    finishedAt: iso(s.finishedAtMs),
  };
}

function executionRecordView(e: ExecutionRecord, steps?: StepRunRecord[]) {
  return {
    id: e.id,
    workflowId: e.workflowId,
    version: e.version,
    userId: e.userId,
    status: e.status,
    trigger: e.triggerInput,
    response: e.response,
    error: e.error,
    createdAt: new Date(e.createdAtMs).toISOString(),
    updatedAt: new Date(e.updatedAtMs).toISOString(),
    finishedAt: iso(e.finishedAtMs),
    ...(steps ? { steps: steps.map(stepRunView) } : {}),
  };
}

type WorkflowParams = { projectId: string; workflowId: string };
type ExecutionParams = { projectId: string; executionId: string };

export function registerWorkflowRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    clock: Clock;
    workflows: WorkflowService;
    triggers: WorkflowTriggers;
    publisher: Publisher;
  },
): void {
  const { store, workflows, triggers } = deps;
  const tags = ['workflows'];

  app.post<{ Params: { projectId: string }; Body: unknown }>(
    '/api/v1/projects/:projectId/workflows',
    {
      schema: {
        tags,
        summary: 'Create a workflow (version 1, not deployed)',
        security: bearerSecurity,
        params: projectIdParams,
        body: workflowBody,
        response: { 201: workflowView, ...errorResponses, 413: errorSchema },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, deps.store, request.params.projectId);
      const created = await workflows.create(projectId, request.body);
      reply.code(201);
      return created;
    },
  );

  app.get<{ Params: { projectId: string }; Querystring: { limit: number; after?: string } }>(
    '/api/v1/projects/:projectId/workflows',
    {
      schema: {
        tags,
        summary: 'List workflows (current versions), oldest first',
        security: bearerSecurity,
        params: projectIdParams,
        querystring: pagedQuery('workflow'),
        response: { 200: pageSchema(workflowView), ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { limit, after } = request.query;
      return workflows.list(projectId, { limit, ...(after !== undefined ? { after } : {}) });
    },
  );

  app.get<{ Params: WorkflowParams }>(
    '/api/v1/projects/:projectId/workflows/:workflowId',
    {
      schema: {
        tags,
        summary: 'Get a workflow’s current version',
        security: bearerSecurity,
        params: workflowParams,
        response: { 200: workflowView, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return workflows.get(projectId, request.params.workflowId);
    },
  );

  app.put<{ Params: WorkflowParams; Body: unknown }>(
    '/api/v1/projects/:projectId/workflows/:workflowId',
    {
      schema: {
        tags,
        summary: 'Store a new version; new executions run it, running ones finish on theirs',
        security: bearerSecurity,
        params: workflowParams,
        body: workflowBody,
        response: { 200: workflowView, ...errorResponses, 413: errorSchema },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return workflows.update(projectId, request.params.workflowId, request.body);
    },
  );

  app.delete<{ Params: WorkflowParams }>(
    '/api/v1/projects/:projectId/workflows/:workflowId',
    {
      schema: {
        tags,
        summary: 'Delete a workflow: nothing starts it any more; running executions finish',
        security: bearerSecurity,
        params: workflowParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      await workflows.remove(projectId, request.params.workflowId);
      reply.code(204);
    },
  );

  for (const [action, deployed] of [
    ['deploy', true],
    ['undeploy', false],
  ] as const) {
    app.post<{ Params: WorkflowParams }>(
      `/api/v1/projects/:projectId/workflows/:workflowId/${action}`,
      {
        schema: {
          tags,
          summary: deployed
            ? 'Deploy: its trigger starts executions'
            : 'Undeploy: its trigger starts nothing',
          security: bearerSecurity,
          params: workflowParams,
          response: { 200: workflowView, ...errorResponses },
        },
      },
      async (request) => {
        const projectId = await authorizeProject(request, store, request.params.projectId);
        return workflows.setDeployed(projectId, request.params.workflowId, deployed);
      },
    );
  }

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post<{ Params: WorkflowParams & { userId: string } }>(
      `/api/v1/projects/:projectId/workflows/:workflowId/users/:userId/${action}`,
      {
        schema: {
          tags,
          summary: enabled
            ? 'Enable the workflow for one user: its triggers start executions for them'
            : 'Disable the workflow for one user',
          security: bearerSecurity,
          params: userParams,
          response: { 204: { type: 'null' }, ...errorResponses, 409: errorSchema },
        },
      },
      async (request, reply) => {
        const projectId = await authorizeProject(request, store, request.params.projectId);
        await workflows.setUserEnabled(projectId, request.params.workflowId, request.params.userId, enabled);
        reply.code(204);
      },
    );
  }

  app.post<{ Params: { projectId: string }; Body: { name: string; schema?: unknown; validate?: boolean } }>(
    '/api/v1/projects/:projectId/app-events',
    {
      schema: {
        tags,
        summary: 'Define (or redefine) an app event: its name and an example payload',
        security: bearerSecurity,
        params: projectIdParams,
        body: appEventBody,
        response: { 200: appEventView, 201: appEventView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { created, event } = await workflows.putAppEvent(projectId, request.body);
      reply.code(created ? 201 : 200);
      return event;
    },
  );

  app.get<{ Params: { projectId: string } }>(
    '/api/v1/projects/:projectId/app-events',
    {
      schema: {
        tags,
        summary: 'List the app events defined, by name',
        security: bearerSecurity,
        params: projectIdParams,
        response: { 200: listSchema(appEventView), ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      return { items: await workflows.listAppEvents(projectId) };
    },
  );

  app.post<{ Params: { projectId: string }; Body: { name: string; userId: string; payload?: unknown } }>(
    '/api/v1/projects/:projectId/app-events/trigger',
    {
      schema: {
        tags,
        summary:
          'Send an app event for a user from the project’s server: 201 once the event and the executions it starts are committed',
        security: bearerSecurity,
        params: projectIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'userId'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            userId: { type: 'string', minLength: 1, maxLength: 256 },
            payload: {},
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['executionIds'],
            properties: { executionIds: { type: 'array', items: { type: 'string' } } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { name, userId, payload } = request.body;
      const executionIds = await triggers.appEvent(projectId, userId, name, payload ?? {});
      reply.code(201);
      return { executionIds };
    },
  );

  registerExecutionRoutes(app, deps);
}

function registerExecutionRoutes(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock; triggers: WorkflowTriggers; publisher: Publisher },
): void {
  const { store, triggers } = deps;
  const tags = ['executions'];

  async function find(projectId: ProjectId, id: string): Promise<ExecutionRecord> {
    const e = isId('execution', id) ? await store.getExecution(projectId, id) : null;
    if (!e) throw notFound(`execution ${id}`);
    return e;
  }

  app.get<{
    Params: { projectId: string };
    Querystring: {
      limit: number;
      after?: string;
      workflowId?: string;
      userId?: string;
      status?: ExecutionStatus;
      from?: string;
      to?: string;
    };
  }>(
    '/api/v1/projects/:projectId/executions',
    {
      schema: {
        tags,
        summary:
          'List executions, oldest first, with each step’s input, output, attempts, errors and timings',
        security: bearerSecurity,
        params: projectIdParams,
        querystring: {
          ...pagedQuery('execution'),
          properties: {
            ...pagedQuery('execution').properties,
            workflowId: { type: 'string', description: 'wf_… id' },
            userId: { type: 'string', maxLength: 256 },
            status: { type: 'string', enum: EXECUTION_STATUSES },
            from: { type: 'string', format: 'date-time', description: 'created at or after (ISO 8601)' },
            to: { type: 'string', format: 'date-time', description: 'created before (ISO 8601)' },
          },
        },
        response: { 200: pageSchema(executionView), ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const q = request.query;
      const page = await store.listExecutions(
        projectId,
        {
          ...(q.workflowId !== undefined ? { workflowId: q.workflowId as WorkflowId } : {}),
          ...(q.userId !== undefined ? { userId: q.userId } : {}),
          ...(q.status !== undefined ? { status: q.status } : {}),
          ...(q.from !== undefined ? { fromMs: Date.parse(q.from) } : {}),
          ...(q.to !== undefined ? { toMs: Date.parse(q.to) } : {}),
        },
        { limit: q.limit, ...(q.after !== undefined ? { after: q.after } : {}) },
      );
      const items = await Promise.all(
        page.items.map(async (e) => executionRecordView(e, await store.listStepRuns(projectId, e.id))),
      );
      return { items, nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: ExecutionParams }>(
    '/api/v1/projects/:projectId/executions/:executionId',
    {
      schema: {
        tags,
        summary: 'Get an execution with each step’s detail',
        security: bearerSecurity,
        params: executionParams,
        response: { 200: executionView, ...errorResponses },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const e = await find(projectId, request.params.executionId);
      return executionRecordView(e, await store.listStepRuns(projectId, e.id));
    },
  );

  app.post<{ Params: ExecutionParams }>(
    '/api/v1/projects/:projectId/executions/:executionId/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a running or waiting execution: no further step starts',
        security: bearerSecurity,
        params: executionParams,
        response: { 200: executionView, ...errorResponses, 409: errorSchema },
      },
    },
    async (request) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const e = await find(projectId, request.params.executionId);
      if (!(await store.cancelExecution(projectId, e.id, deps.clock.nowMs()))) {
        throw new HookyardError('conflict', `execution ${e.id} has already ended (${e.status})`);
      }
      const subject = {
        projectId,
        workflowId: e.workflowId,
        executionId: e.id as ExecutionId,
        userId: e.userId,
      };
      await deps.publisher.publish(executionEvent(subject, 'canceled'));
      const after = await find(projectId, e.id);
      return executionRecordView(after, await store.listStepRuns(projectId, e.id));
    },
  );

  app.post<{ Params: ExecutionParams }>(
    '/api/v1/projects/:projectId/executions/:executionId/replay',
    {
      schema: {
        tags,
        summary: 'Start a new execution with the same trigger input, on the workflow’s current version',
        security: bearerSecurity,
        params: executionParams,
        response: { 201: executionView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const e = await find(projectId, request.params.executionId);
      const workflow = await store.getWorkflow(projectId, e.workflowId);
      if (!workflow) throw notFound(`workflow ${e.workflowId}`);
      const [id] = await triggers.start(projectId, e.userId, [workflow], e.triggerInput);
      if (!id) throw new Error('the execution was not stored');
      reply.code(201);
      return executionRecordView(await find(projectId, id), []);
    },
  );
}
