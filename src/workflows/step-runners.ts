import { Agent } from 'undici';
import {
  checkDeliveryUrl,
  createEgressConnector,
  EgressBlockedError,
  type EgressOptions,
} from '../delivery/egress-guard.ts';
import type { Publisher } from '../delivery/publisher.ts';
import { HookyardError } from '../domain/errors.ts';
import type { ProjectId } from '../domain/ids.ts';
import { renderRequest, TemplateError } from '../integrations/template-renderer.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import { SandboxError } from '../sandbox/sandbox-limits.ts';
import type { WorkflowStep } from './workflow-document.ts';
import { renderWorkflowJson, WORKFLOW_VOCABULARY, type WorkflowContext } from './workflow-templates.ts';

/** A step's failure as committed and reported: `{ code, message, details? }`. */
export interface StepFailure {
  code: string;
  message: string;
  details?: unknown;
}

export class StepError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable = false,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'StepError';
  }

  static from(error: unknown): StepError {
    if (error instanceof StepError) return error;
    if (error instanceof TemplateError) return new StepError('template_error', error.message);
    if (error instanceof SandboxError) {
      return new StepError(error.kind, error.message, error.kind === 'sandbox_unavailable');
    }
    if (error instanceof HookyardError) return new StepError(error.code, error.detail, error.status >= 500);
    if (error instanceof EgressBlockedError) return new StepError('egress_blocked', error.message);
    return new StepError('step_error', error instanceof Error ? error.message : String(error), true);
  }

  toJSON(): StepFailure {
    return {
      code: this.code,
      message: this.message,
      ...(this.details !== undefined ? { details: this.details } : {}),
    };
  }
}

export interface StepMeta {
  projectId: ProjectId;
  executionId: string;
  stepKey: string;
  userId: string | null;
}

type LeafStep = Exclude<WorkflowStep, { type: 'condition' | 'forEach' }>;

export interface StepRunners {
  /** The step's input: its fields rendered over the context (committed as the step's input). */
  render(step: LeafStep, context: WorkflowContext, field: string): unknown;
  /** Runs the step on its rendered input; throws StepError (or anything, read as retryable). */
  run(step: LeafStep, input: unknown, meta: StepMeta): Promise<unknown>;
  close(): Promise<void>;
}

/** The most of an http step's response body kept as its output. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const DEFAULT_HTTP_TIMEOUT_MS = 30_000;

interface RenderedHttp {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export function createStepRunners(deps: {
  sandbox: Sandbox;
  publisher: Publisher;
  egressAllow: EgressOptions['allow'];
}): StepRunners {
  const agent = new Agent({
    connections: 16,
    connect: createEgressConnector(deps.egressAllow ? { allow: deps.egressAllow } : {}),
  });

  async function http(step: Extract<LeafStep, { type: 'http' }>, input: RenderedHttp, meta: StepMeta) {
    const url = checkDeliveryUrl(input.url);
    const headers: Record<string, string> = { 'user-agent': 'Hookyard-Workflows/0.1', ...input.headers };
    if (step.idempotencyKey) headers['idempotency-key'] = `${meta.executionId}:${meta.stepKey}`;
    const timeoutMs = step.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    let response: Awaited<ReturnType<Agent['request']>>;
    try {
      response = await agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: input.method as 'GET',
        headers,
        ...(input.body !== undefined ? { body: input.body } : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (error) {
      if (error instanceof EgressBlockedError) throw new StepError('egress_blocked', error.message);
      throw new StepError('http_error', `${input.method} ${url.origin}: ${(error as Error).message}`, true);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_RESPONSE_BYTES) {
        response.body.destroy();
        throw new StepError('response_too_large', `the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    if (String(response.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {}
    }
    const status = response.statusCode;
    if (status < 200 || status >= 300) {
      throw new StepError(
        'http_status',
        `${input.method} ${url.origin}${url.pathname} answered ${status}`,
        status >= 500 || status === 429 || status === 408,
        { status, body: text.slice(0, 4096) },
      );
    }
    const responseHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(response.headers)) {
      if (v !== undefined) responseHeaders[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    return { status, headers: responseHeaders, body };
  }

  return {
    render(step, context, field) {
      switch (step.type) {
        case 'http': {
          const rendered = renderRequest(
            {
              method: step.method as 'GET',
              url: step.url,
              ...(step.headers ? { headers: step.headers } : {}),
              ...(step.query ? { query: step.query } : {}),
              ...(step.body !== undefined ? { body: step.body } : {}),
              auth: 'none',
            },
            context as never,
            { field, vocabulary: WORKFLOW_VOCABULARY },
          );
          return rendered;
        }
        case 'code':
          return step.input === undefined
            ? {
                trigger: context.trigger,
                steps: context.steps,
                user: context.user,
                ...(context.item !== undefined ? { item: context.item, index: context.index } : {}),
              }
            : renderWorkflowJson(step.input, context, `${field}.input`);
        case 'respond':
          return {
            status: step.status ?? 200,
            headers: renderWorkflowJson(step.headers ?? {}, context, `${field}.headers`),
            body: step.body === undefined ? null : renderWorkflowJson(step.body, context, `${field}.body`),
          };
        case 'publish':
          return {
            eventType: renderWorkflowJson(step.eventType, context, `${field}.eventType`),
            payload: renderWorkflowJson(step.payload, context, `${field}.payload`),
            ...(step.objectType !== undefined
              ? { objectType: renderWorkflowJson(step.objectType, context, `${field}.objectType`) }
              : {}),
          };
        default:
          return null;
      }
    },
    async run(step, input, meta) {
      switch (step.type) {
        case 'http':
          return http(step, input as RenderedHttp, meta);
        case 'code':
          return deps.sandbox.run(step.code, input);
        case 'respond':
          return input;
        case 'publish': {
          const i = input as { eventType: string; payload: unknown; objectType?: string };
          const result = await deps.publisher.publish({
            projectId: meta.projectId,
            eventType: String(i.eventType),
            payload: i.payload,
            ...(i.objectType !== undefined ? { objectType: String(i.objectType) } : {}),
            ...(meta.userId !== null ? { userId: meta.userId } : {}),
            idempotencyKey: `${meta.executionId}:${meta.stepKey}`,
          });
          return { messageId: result.id };
        }
        default:
          throw new StepError('invalid_step', `${step.type} steps are run by the engine itself`);
      }
    },
    close: () => agent.close(),
  };
}
