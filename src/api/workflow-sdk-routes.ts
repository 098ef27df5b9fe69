import type { FastifyInstance } from 'fastify';
import { HookyardError } from '../domain/errors.ts';
import type { WorkflowService } from '../workflows/workflow-service.ts';
import type { WorkflowTriggers } from '../workflows/workflow-triggers.ts';
import { errorResponses, errorSchema } from './schemas.ts';
import { SDK_PREFIX, sdkUserOf, userTokenSecurity } from './sdk-auth.ts';

const projectParams = {
  type: 'object',
  required: ['projectId'],
  properties: { projectId: { type: 'string' } },
} as const;
const workflowParams = {
  type: 'object',
  required: ['projectId', 'workflowId'],
  properties: { projectId: { type: 'string' }, workflowId: { type: 'string', description: 'wf_… id' } },
} as const;

/** Headers never handed to a workflow as `trigger.headers`: the caller's credentials. */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * The workflow routes a project's app calls for one user, with a user token, as Paragon's SDK
 * does: send an app event, call a request-triggered workflow, enable or disable a workflow.
 */
export function registerWorkflowSdkRoutes(
  sdk: FastifyInstance,
  deps: { workflows: WorkflowService; triggers: WorkflowTriggers; responseWaitMs: number },
): void {
  const { workflows, triggers } = deps;
  const tags = ['sdk'];

  sdk.post<{ Params: { projectId: string }; Body: { name: string; payload?: unknown } }>(
    `${SDK_PREFIX}/events/trigger`,
    {
      schema: {
        tags,
        summary:
          'Send an app event for the token’s user: 201 once the event and the executions it starts are committed',
        security: userTokenSecurity,
        params: projectParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, payload: {} },
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
      const user = sdkUserOf(request);
      const executionIds = await triggers.appEvent(
        user.projectId,
        user.userId,
        request.body.name,
        request.body.payload ?? {},
      );
      reply.code(201);
      return { executionIds };
    },
  );

  sdk.post<{ Params: { projectId: string; workflowId: string }; Body: unknown }>(
    `${SDK_PREFIX}/triggers/:workflowId`,
    {
      schema: {
        tags,
        summary:
          'Call a request-triggered workflow: 202 with the execution id, or the answer of its respond step, or 504 when that does not come in time',
        security: userTokenSecurity,
        params: workflowParams,
        response: {
          202: {
            type: 'object',
            required: ['executionId'],
            properties: { executionId: { type: 'string' } },
          },
          ...errorResponses,
          409: errorSchema,
          504: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const user = sdkUserOf(request);
      const headers: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (!HIDDEN_HEADERS.has(name)) headers[name] = value;
      }
      const result = await triggers.request(
        user.projectId,
        user.userId,
        request.params.workflowId,
        { query: request.query as Record<string, unknown>, headers, body: request.body ?? null },
        deps.responseWaitMs,
      );
      reply.header('x-hookyard-execution-id', result.executionId);
      if (!result.responds) {
        reply.code(202);
        return { executionId: result.executionId };
      }
      if (result.response === null) {
        throw new HookyardError(
          'workflow_response_timeout',
          `the workflow did not respond within ${deps.responseWaitMs} ms; execution ${result.executionId} goes on`,
        );
      }
      reply.code(result.response.status);
      for (const [name, value] of Object.entries(result.response.headers ?? {})) reply.header(name, value);
      // The workflow's body, as built; the route's schema does not shape it.
      return reply.serializer((payload: unknown) => JSON.stringify(payload)).send(result.response.body);
    },
  );

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    sdk.post<{ Params: { projectId: string; workflowId: string } }>(
      `${SDK_PREFIX}/workflows/:workflowId/${action}`,
      {
        schema: {
          tags,
          summary: enabled
            ? 'Enable a workflow for the token’s user'
            : 'Disable a workflow for the token’s user',
          security: userTokenSecurity,
          params: workflowParams,
          response: { 204: { type: 'null' }, ...errorResponses, 409: errorSchema },
        },
      },
      async (request, reply) => {
        const user = sdkUserOf(request);
        await workflows.setUserEnabled(user.projectId, request.params.workflowId, user.userId, enabled);
        reply.code(204);
      },
    );
  }
}
