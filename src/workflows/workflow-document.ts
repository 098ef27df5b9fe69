/**
 * A workflow document: a trigger and steps (docs/workflow.schema.json; docs/workflows.md). The
 * types below are what src/workflows/workflow-validation.ts has checked; every value that is a
 * string may hold `{{…}}` placeholders (src/workflows/workflow-templates.ts).
 */

export type ScheduleEvery =
  | { seconds: number }
  | { minutes: number }
  | { hours: number; atMinute?: number }
  | { days: number; at: string }
  | { weekday: string; at: string };

export type WorkflowTrigger =
  | { type: 'appEvent'; event: string }
  | { type: 'request'; validation?: RequestValidation }
  | { type: 'webhook'; integration: string; triggerType: string; parameters?: Record<string, unknown> }
  | { type: 'integrationEnabled'; integration: string }
  | {
      type: 'schedule';
      every?: ScheduleEvery;
      cron?: string;
      timezone?: string;
      /** Where "every N" counts from (ISO 8601); default: the workflow's creation. */
      anchor?: string;
      misfire?: 'skip' | { catchUp: number };
      overlap?: 'skip' | 'allow';
    };

export interface FieldRule {
  required?: boolean;
  equals?: unknown;
  type?: 'string' | 'number' | 'boolean' | 'object' | 'array' | 'email';
}

export interface RequestValidation {
  query?: Record<string, FieldRule>;
  headers?: Record<string, FieldRule>;
  body?: Record<string, FieldRule>;
}

export interface RetryPolicy {
  /** Retries after the first attempt (0 to 10). */
  retries: number;
  /** Waits before each retry; the last repeats. */
  delaysSeconds?: number[];
}

interface StepBase {
  id: string;
  retry?: RetryPolicy;
}

export type ConditionOperator =
  | 'equals'
  | 'notEquals'
  | 'contains'
  | 'exists'
  | 'greaterThan'
  | 'lessThan'
  | 'in';

export type Condition =
  | { left: unknown; operator: ConditionOperator; right?: unknown }
  | { all: Condition[] }
  | { any: Condition[] };

export type WorkflowStep =
  | (StepBase & {
      type: 'http';
      method: string;
      url: string;
      headers?: Record<string, string>;
      query?: Record<string, string>;
      body?: unknown;
      /** Sends `Idempotency-Key: {{execution.id}}:{{step.id}}`. */
      idempotencyKey?: boolean;
      timeoutMs?: number;
    })
  | (StepBase & { type: 'code'; code: string; input?: unknown })
  | (StepBase & { type: 'condition'; if: Condition; then: WorkflowStep[]; else?: WorkflowStep[] })
  | (StepBase & { type: 'forEach'; items: unknown; concurrency?: number; steps: WorkflowStep[] })
  | (StepBase & { type: 'delay'; seconds?: number; until?: string })
  | (StepBase & { type: 'respond'; status?: number; headers?: Record<string, string>; body?: unknown })
  | (StepBase & { type: 'publish'; eventType: string; payload: unknown; objectType?: string })
  | (StepBase & {
      type: 'waitForEvent';
      event: string;
      match?: Record<string, unknown>;
      timeoutSeconds: number;
    });

export interface WorkflowDocument {
  name: string;
  trigger: WorkflowTrigger;
  steps: WorkflowStep[];
  integration?: string;
}

export const STEP_TYPES = [
  'http',
  'code',
  'condition',
  'forEach',
  'delay',
  'respond',
  'publish',
  'waitForEvent',
] as const;

/** Paragon's auto-retry: 5 retries at about 10, 20, 30, 50 and 80 seconds. */
export const DEFAULT_RETRY: Readonly<Required<RetryPolicy>> = Object.freeze({
  retries: 5,
  delaysSeconds: [10, 20, 30, 50, 80],
});

/** The trigger key stored beside the workflow, by which triggers look it up. */
export function triggerKeyOf(trigger: WorkflowTrigger): string | null {
  return trigger.type === 'appEvent'
    ? trigger.event
    : trigger.type === 'webhook' || trigger.type === 'integrationEnabled'
      ? trigger.integration
      : null;
}
