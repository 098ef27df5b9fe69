import type { PublishInput } from '../delivery/publisher.ts';
import type { ExecutionId, ProjectId, WorkflowId } from '../domain/ids.ts';

/**
 * An execution's lifecycle as messages, with Paradym's event names: each carries `workflowId` and
 * `workflowExecutionId`, has the execution id as its ordering key (one execution's messages reach
 * an endpoint in the order they happened) and an idempotency key naming the change, so a change
 * published twice (a process that died after its commit) is one message.
 */
export type ExecutionEventKind =
  | 'started'
  | 'actionExecuted'
  | 'waitingForTrigger'
  | 'completed'
  | 'canceled'
  | 'failed';

export interface ExecutionEventSubject {
  projectId: ProjectId;
  workflowId: WorkflowId;
  executionId: ExecutionId;
  userId: string | null;
}

export function executionEvent(
  subject: ExecutionEventSubject,
  kind: ExecutionEventKind,
  detail: { stepKey?: string; stepId?: string; output?: unknown; error?: unknown; status?: string } = {},
): PublishInput {
  const payload: Record<string, unknown> = {
    workflowId: subject.workflowId,
    workflowExecutionId: subject.executionId,
    ...(subject.userId !== null ? { userId: subject.userId } : {}),
  };
  if (detail.stepId !== undefined) payload.workflowActionId = detail.stepId;
  if (detail.stepKey !== undefined && detail.stepKey !== detail.stepId) payload.stepKey = detail.stepKey;
  if (detail.output !== undefined) payload.output = detail.output;
  if (detail.error !== undefined) payload.error = detail.error;
  return {
    projectId: subject.projectId,
    eventType: `workflowExecution.${kind}`,
    payload,
    objectType: 'workflowExecution',
    ...(subject.userId !== null ? { userId: subject.userId } : {}),
    orderingKey: subject.executionId,
    idempotencyKey: `${subject.executionId}:${kind}${detail.stepKey !== undefined ? `:${detail.stepKey}` : ''}`,
  };
}
