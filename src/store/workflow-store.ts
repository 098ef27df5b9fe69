/** The workflows part of the storage port: documents and their versions, users, app events, executions. */
import type { ExecutionId, ProjectId, WorkflowId } from '../domain/ids.ts';
import type { Page } from './page.ts';

export interface WorkflowRecord {
  id: WorkflowId;
  projectId: ProjectId;
  name: string;
  /** The current version (1 on create; each PUT adds one). */
  version: number;
  deployed: boolean;
  triggerType: string;
  /** What a trigger looks the workflow up by (the app event's name); null for other kinds. */
  triggerKey: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface WorkflowVersionRecord {
  workflowId: WorkflowId;
  version: number;
  /** Validated by src/workflows before it is stored; opaque JSON to the store. */
  document: Record<string, unknown>;
  createdAtMs: number;
}

export interface AppEventRecord {
  projectId: ProjectId;
  name: string;
  schema: unknown;
  validate: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

export type ExecutionStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'canceled';
export const ACTIVE_EXECUTION_STATUSES: readonly ExecutionStatus[] = ['running', 'waiting'];

export interface ExecutionRecord {
  id: ExecutionId;
  projectId: ProjectId;
  workflowId: WorkflowId;
  version: number;
  userId: string | null;
  status: ExecutionStatus;
  triggerInput: unknown;
  /** What a respond step answered, once one has. */
  response: unknown;
  error: unknown;
  /** Unique across the store when set (a schedule's (workflow, user, fire time)). */
  runKey: string | null;
  nextRunAtMs: number;
  createdAtMs: number;
  updatedAtMs: number;
  finishedAtMs: number | null;
}

export type StepRunStatus = 'succeeded' | 'failed' | 'retrying' | 'waiting';

export interface StepRunRecord {
  executionId: ExecutionId;
  /** The step's place in the run: its id, or `loop[2].send` inside a forEach. */
  stepKey: string;
  stepId: string;
  kind: string;
  status: StepRunStatus;
  input: unknown;
  output: unknown;
  attempts: number;
  error: unknown;
  /** A waitForEvent step's app event name while it waits. */
  waitEvent: string | null;
  /** When a waiting or retrying step is due again. */
  wakeAtMs: number | null;
  /** Commit order within the execution. */
  seq: number;
  startedAtMs: number;
  finishedAtMs: number | null;
}

/** A claimed execution with the version document it runs. */
export interface ClaimedExecution extends ExecutionRecord {
  document: Record<string, unknown>;
}

/**
 * One durable step of progress: a step's state and the execution's, in one transaction, only while
 * `holder` still holds the execution's lease and it is still active (a canceled one stays canceled).
 */
export interface ExecutionProgress {
  executionId: ExecutionId;
  holder: string;
  step?: Omit<StepRunRecord, 'executionId' | 'seq'>;
  execution: {
    status: ExecutionStatus;
    nextRunAtMs: number;
    /** Keeps the lease until then; null gives it up (waiting, or finished). */
    leasedUntilMs: number | null;
    response?: unknown;
    error?: unknown;
    finishedAtMs?: number | null;
  };
  nowMs: number;
}

export interface ExecutionFilter {
  workflowId?: WorkflowId;
  userId?: string;
  status?: ExecutionStatus;
  fromMs?: number;
  toMs?: number;
}

export interface WorkflowStore {
  insertWorkflow(workflow: WorkflowRecord, document: Record<string, unknown>): Promise<void>;
  /** Adds a version and makes it current; null when the workflow does not exist in that project. */
  addWorkflowVersion(
    projectId: ProjectId,
    id: WorkflowId,
    change: {
      name: string;
      triggerType: string;
      triggerKey: string | null;
      document: Record<string, unknown>;
    },
    nowMs: number,
  ): Promise<WorkflowRecord | null>;
  getWorkflow(projectId: ProjectId, id: WorkflowId): Promise<WorkflowRecord | null>;
  getWorkflowVersion(
    projectId: ProjectId,
    id: WorkflowId,
    version: number,
  ): Promise<WorkflowVersionRecord | null>;
  listWorkflows(
    projectId: ProjectId,
    options: { limit: number; after?: string },
  ): Promise<Page<WorkflowRecord>>;
  /** Hides the workflow (its versions stay for the executions still running them); false when absent. */
  deleteWorkflow(projectId: ProjectId, id: WorkflowId, nowMs: number): Promise<boolean>;
  setWorkflowDeployed(
    projectId: ProjectId,
    id: WorkflowId,
    deployed: boolean,
    nowMs: number,
  ): Promise<boolean>;
  setWorkflowUserEnabled(
    projectId: ProjectId,
    workflowId: WorkflowId,
    userId: string,
    enabled: boolean,
    nowMs: number,
  ): Promise<void>;
  /**
   * The deployed workflows of this trigger type (and key, when given) with their current document;
   * with `userId`, only those that user enabled.
   */
  findTriggeredWorkflows(
    projectId: ProjectId,
    query: { triggerType: string; triggerKey?: string; userId?: string },
  ): Promise<Array<WorkflowRecord & { document: Record<string, unknown> }>>;
  /** Every deployed workflow of this trigger type in every project, with its current document. */
  listDeployedWorkflows(
    triggerType: string,
  ): Promise<Array<WorkflowRecord & { document: Record<string, unknown> }>>;
  /** The users who enabled the workflow, in id order. */
  listEnabledUsers(projectId: ProjectId, workflowId: WorkflowId): Promise<string[]>;

  putAppEvent(record: AppEventRecord): Promise<void>;
  getAppEvent(projectId: ProjectId, name: string): Promise<AppEventRecord | null>;
  listAppEvents(projectId: ProjectId): Promise<AppEventRecord[]>;

  /** In one transaction; a run key already stored skips its execution. Returns the ids inserted. */
  insertExecutions(executions: readonly ExecutionRecord[]): Promise<ExecutionId[]>;
  /** Active executions due now whose lease is free, leased to `holder` until nowMs + leaseMs. */
  claimDueExecutions(options: {
    nowMs: number;
    leaseMs: number;
    holder: string;
    limit: number;
  }): Promise<ClaimedExecution[]>;
  /** For each item, whether it was committed (false: the lease was lost or the execution ended). */
  commitExecutionProgress(items: readonly ExecutionProgress[]): Promise<boolean[]>;
  getExecution(projectId: ProjectId, id: ExecutionId): Promise<ExecutionRecord | null>;
  listStepRuns(projectId: ProjectId, executionId: ExecutionId): Promise<StepRunRecord[]>;
  listExecutions(
    projectId: ProjectId,
    filter: ExecutionFilter,
    options: { limit: number; after?: string },
  ): Promise<Page<ExecutionRecord>>;
  /** Whether the user has an active execution of the workflow. */
  hasActiveExecution(workflowId: WorkflowId, userId: string | null): Promise<boolean>;
  /** Ends an active execution as canceled; false when it is not active (or not in that project). */
  cancelExecution(projectId: ProjectId, id: ExecutionId, nowMs: number): Promise<boolean>;
  /**
   * Completes the waitForEvent steps of this user waiting for this event whose `match` accepts the
   * payload (decided by `accepts`), with the event as their output, and makes their executions due.
   */
  resumeWaitingSteps(
    projectId: ProjectId,
    userId: string,
    eventName: string,
    accepts: (stepInput: unknown) => boolean,
    output: unknown,
    nowMs: number,
  ): Promise<ExecutionId[]>;
}
