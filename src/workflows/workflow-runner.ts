import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Publisher, PublishInput } from '../delivery/publisher.ts';
import type { Clock } from '../domain/clock.ts';
import type { ExecutionId } from '../domain/ids.ts';
import { GroupCommit } from '../store/group-commit.ts';
import type { Store } from '../store/store.ts';
import type {
  ClaimedExecution,
  ExecutionProgress,
  ExecutionStatus,
  StepRunRecord,
} from '../store/workflow-store.ts';
import { type ExecutionEventKind, executionEvent } from './execution-events.ts';
import { evaluateCondition } from './step-conditions.ts';
import { StepError, type StepFailure, type StepRunners } from './step-runners.ts';
import { DEFAULT_RETRY, type WorkflowDocument, type WorkflowStep } from './workflow-document.ts';
import { renderWorkflowJson, type WorkflowContext } from './workflow-templates.ts';

/**
 * The durable execution engine. Executions are rows; this runner claims due ones under a lease
 * (as the delivery worker claims deliveries), walks each one's steps, and commits every step's
 * input, output, attempts and state, through one group commit shared by all executions, before
 * the next step starts. The walk is a pure function of the document and the committed steps, so
 * any process that claims an execution later (this one after a wait, or another after this one
 * died and its lease ran out) resumes it where it stopped: a step whose success is committed is
 * never run again. A side effect can repeat only if the process dies between it and its commit;
 * http steps may send `Idempotency-Key: {execution id}:{step key}` for that.
 *
 * A commit names the lease holder and is refused when the lease was lost or the execution ended
 * (canceled): the walk stops there.
 */

export interface WorkflowRunnerOptions {
  /** Who holds leases (unique per process). */
  holder: string;
  leaseMs?: number;
  pollMs?: number;
  claimBatch?: number;
  maxRunning?: number;
}

type Outcome =
  | { kind: 'done' }
  | { kind: 'suspend'; untilMs: number; waiting: boolean }
  | { kind: 'failed'; stepKey: string; stepId: string; error: StepFailure }
  | { kind: 'lost' };

interface ProgressItem {
  progress: ExecutionProgress;
  resolve: (committed: boolean) => void;
  reject: (error: unknown) => void;
}

export interface WorkflowRunner {
  start(): void;
  /** Claims now (an execution was just created). */
  wake(): void;
  /** Resolves with the respond step's answer, or null when none came within `timeoutMs`. */
  waitForResponse(executionId: ExecutionId, projectId: string, timeoutMs: number): Promise<unknown | null>;
  stop(): Promise<void>;
  /** `response:{execution id}` (a respond step's answer) and `finished:{execution id}`, in this process. */
  readonly events: EventEmitter;
}

export function createWorkflowRunner(
  deps: { store: Store; clock: Clock; logger: Logger; publisher: Publisher; steps: StepRunners },
  options: WorkflowRunnerOptions,
): WorkflowRunner {
  const { store, clock, publisher, steps: stepRunners } = deps;
  const log = deps.logger.child({ scope: 'workflow-runner' });
  const leaseMs = options.leaseMs ?? 300_000;
  const pollMs = options.pollMs ?? 500;
  const claimBatch = options.claimBatch ?? 64;
  const maxRunning = options.maxRunning ?? 256;
  const holder = options.holder;
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const running = new Map<ExecutionId, Promise<void>>();
  let stopped = true;
  let claiming = false;
  let wakePending = false;
  let timer: NodeJS.Timeout | null = null;

  const committer = new GroupCommit<ProgressItem>({
    maxBatch: 256,
    async commit(batch) {
      try {
        const results = await store.commitExecutionProgress(batch.map((b) => b.progress));
        batch.forEach((b, i) => {
          b.resolve(results[i] === true);
        });
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    },
  });

  function commit(progress: ExecutionProgress): Promise<boolean> {
    return new Promise((resolve, reject) => committer.add({ progress, resolve, reject }));
  }

  async function publishLifecycle(input: PublishInput): Promise<void> {
    try {
      await publisher.publish(input);
    } catch (error) {
      log.warn({ err: error, eventType: input.eventType }, 'lifecycle message not published');
    }
  }

  async function claimLoop(): Promise<void> {
    if (claiming) {
      wakePending = true;
      return;
    }
    claiming = true;
    try {
      do {
        wakePending = false;
        if (stopped) return;
        const room = maxRunning - running.size;
        if (room <= 0) return;
        const claimed = await store.claimDueExecutions({
          nowMs: clock.nowMs(),
          leaseMs,
          holder,
          limit: Math.min(room, claimBatch),
        });
        for (const execution of claimed) {
          const done = runExecution(execution)
            .catch((error: unknown) =>
              log.error({ err: error, executionId: execution.id }, 'execution run failed'),
            )
            .finally(() => {
              running.delete(execution.id);
              if (!stopped) void claimLoop();
            });
          running.set(execution.id, done);
        }
        if (claimed.length === Math.min(room, claimBatch)) wakePending = true;
      } while (wakePending && !stopped);
    } catch (error) {
      log.error({ err: error }, 'claiming executions failed');
    } finally {
      claiming = false;
    }
  }

  function schedulePoll(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void claimLoop().finally(schedulePoll);
    }, pollMs);
    timer.unref();
  }

  async function runExecution(execution: ClaimedExecution): Promise<void> {
    const doc = execution.document as unknown as WorkflowDocument;
    const runs = new Map<string, StepRunRecord>();
    for (const run of await store.listStepRuns(execution.projectId, execution.id)) runs.set(run.stepKey, run);
    const subject = {
      projectId: execution.projectId,
      workflowId: execution.workflowId,
      executionId: execution.id,
      userId: execution.userId,
    };
    const emit = (kind: ExecutionEventKind, detail?: Parameters<typeof executionEvent>[2]) =>
      publishLifecycle(executionEvent(subject, kind, detail));
    if (runs.size === 0) await emit('started');

    const progress = (
      step: ExecutionProgress['step'],
      status: ExecutionStatus = 'running',
    ): Promise<boolean> => {
      const nowMs = clock.nowMs();
      return commit({
        executionId: execution.id,
        holder,
        ...(step ? { step } : {}),
        execution: { status, nextRunAtMs: nowMs, leasedUntilMs: nowMs + leaseMs },
        nowMs,
      });
    };

    const baseContext: WorkflowContext = {
      trigger: execution.triggerInput,
      steps: {},
      user: { id: execution.userId },
      execution: { id: execution.id },
      step: { id: '' },
    };

    async function runLeaf(
      step: Exclude<WorkflowStep, { type: 'condition' | 'forEach' }>,
      key: string,
      context: WorkflowContext,
    ): Promise<Outcome> {
      const previous = runs.get(key);
      const nowMs = clock.nowMs();
      const startedAtMs = previous?.startedAtMs ?? nowMs;
      const base = { stepKey: key, stepId: step.id, kind: step.type, startedAtMs };
      const succeed = async (input: unknown, output: unknown, attempts: number): Promise<Outcome | null> => {
        const record = {
          ...base,
          status: 'succeeded' as const,
          input,
          output,
          attempts,
          error: null,
          waitEvent: null,
          wakeAtMs: null,
          finishedAtMs: clock.nowMs(),
        };
        if (!(await progress(record))) return { kind: 'lost' };
        runs.set(key, { ...record, executionId: execution.id, seq: runs.size });
        context.steps[step.id] = { output };
        await emit('actionExecuted', { stepKey: key, stepId: step.id, output });
        return null;
      };

      if (step.type === 'delay' || step.type === 'waitForEvent') {
        if (previous?.status === 'waiting') {
          if (previous.wakeAtMs !== null && previous.wakeAtMs > nowMs) {
            return { kind: 'suspend', untilMs: previous.wakeAtMs, waiting: true };
          }
          const output =
            step.type === 'delay'
              ? { waitedUntil: new Date(nowMs).toISOString() }
              : { timedOut: true, event: null };
          return (await succeed(previous.input, output, previous.attempts)) ?? { kind: 'done' };
        }
        const ctx = { ...context, step: { id: step.id } };
        let input: unknown;
        let wakeAtMs: number;
        try {
          if (step.type === 'delay') {
            if (step.seconds !== undefined) wakeAtMs = nowMs + step.seconds * 1000;
            else {
              const until = String(renderWorkflowJson(step.until, ctx, `${key}.until`));
              wakeAtMs = Date.parse(until);
              if (Number.isNaN(wakeAtMs))
                throw new StepError('invalid_input', `${key}.until: "${until}" is not an ISO 8601 time`);
            }
            input = { until: new Date(wakeAtMs).toISOString() };
          } else {
            input = { event: step.event, match: renderWorkflowJson(step.match ?? {}, ctx, `${key}.match`) };
            wakeAtMs = nowMs + step.timeoutSeconds * 1000;
          }
        } catch (error) {
          return fail(step, key, base, undefined, 1, StepError.from(error));
        }
        if (step.type === 'delay' && wakeAtMs <= nowMs)
          return (
            (await succeed(input, { waitedUntil: new Date(nowMs).toISOString() }, 1)) ?? { kind: 'done' }
          );
        const record = {
          ...base,
          status: 'waiting' as const,
          input,
          output: null,
          attempts: 1,
          error: null,
          waitEvent: step.type === 'waitForEvent' ? step.event : null,
          wakeAtMs,
          finishedAtMs: null,
        };
        if (!(await progress(record, 'waiting'))) return { kind: 'lost' };
        runs.set(key, { ...record, executionId: execution.id, seq: runs.size });
        if (step.type === 'waitForEvent') await emit('waitingForTrigger', { stepKey: key, stepId: step.id });
        return { kind: 'suspend', untilMs: wakeAtMs, waiting: true };
      }

      if (previous?.status === 'retrying' && previous.wakeAtMs !== null && previous.wakeAtMs > nowMs) {
        return { kind: 'suspend', untilMs: previous.wakeAtMs, waiting: false };
      }
      const attempts = (previous?.attempts ?? 0) + 1;
      const ctx = { ...context, step: { id: step.id } };
      let input: unknown;
      try {
        input = stepRunners.render(step, ctx, key);
      } catch (error) {
        return fail(step, key, base, undefined, attempts, StepError.from(error));
      }
      try {
        const output = await stepRunners.run(step, input, {
          projectId: execution.projectId,
          executionId: execution.id,
          stepKey: key,
          userId: execution.userId,
        });
        if (step.type === 'respond') {
          const nowDone = clock.nowMs();
          const record = {
            ...base,
            status: 'succeeded' as const,
            input,
            output,
            attempts,
            error: null,
            waitEvent: null,
            wakeAtMs: null,
            finishedAtMs: nowDone,
          };
          const ok = await commit({
            executionId: execution.id,
            holder,
            step: record,
            execution: {
              status: 'running',
              nextRunAtMs: nowDone,
              leasedUntilMs: nowDone + leaseMs,
              response: output,
            },
            nowMs: nowDone,
          });
          if (!ok) return { kind: 'lost' };
          runs.set(key, { ...record, executionId: execution.id, seq: runs.size });
          context.steps[step.id] = { output };
          events.emit(`response:${execution.id}`, output);
          await emit('actionExecuted', { stepKey: key, stepId: step.id, output });
          return { kind: 'done' };
        }
        return (await succeed(input, output, attempts)) ?? { kind: 'done' };
      } catch (error) {
        return fail(step, key, base, input, attempts, StepError.from(error));
      }
    }

    async function fail(
      step: WorkflowStep,
      key: string,
      base: { stepKey: string; stepId: string; kind: string; startedAtMs: number },
      input: unknown,
      attempts: number,
      error: StepError,
    ): Promise<Outcome> {
      const policy = step.retry ?? DEFAULT_RETRY;
      const delays = policy.delaysSeconds ?? DEFAULT_RETRY.delaysSeconds;
      const nowMs = clock.nowMs();
      const failure = error.toJSON();
      if (error.retryable && attempts <= policy.retries) {
        const delayS = delays[Math.min(attempts - 1, delays.length - 1)] ?? 10;
        const wakeAtMs = nowMs + delayS * 1000;
        const record = {
          ...base,
          status: 'retrying' as const,
          input,
          output: null,
          attempts,
          error: failure,
          waitEvent: null,
          wakeAtMs,
          finishedAtMs: null,
        };
        if (!(await progress(record))) return { kind: 'lost' };
        runs.set(key, { ...record, executionId: execution.id, seq: runs.size });
        return { kind: 'suspend', untilMs: wakeAtMs, waiting: false };
      }
      const record = {
        ...base,
        status: 'failed' as const,
        input,
        output: null,
        attempts,
        error: failure,
        waitEvent: null,
        wakeAtMs: null,
        finishedAtMs: nowMs,
      };
      if (!(await progress(record))) return { kind: 'lost' };
      return { kind: 'failed', stepKey: key, stepId: step.id, error: failure };
    }

    async function walk(list: WorkflowStep[], prefix: string, context: WorkflowContext): Promise<Outcome> {
      for (const step of list) {
        const key = `${prefix}${step.id}`;
        const previous = runs.get(key);
        if (step.type === 'condition') {
          let result: boolean;
          if (previous?.status === 'succeeded') result = (previous.output as { result: boolean }).result;
          else {
            const ctx = { ...context, step: { id: step.id } };
            result = evaluateCondition(step.if, (v) => renderWorkflowJson(v, ctx, `${key}.if`));
            const nowMs = clock.nowMs();
            const record = {
              stepKey: key,
              stepId: step.id,
              kind: step.type,
              status: 'succeeded' as const,
              input: null,
              output: { result },
              attempts: 1,
              error: null,
              waitEvent: null,
              wakeAtMs: null,
              startedAtMs: nowMs,
              finishedAtMs: nowMs,
            };
            if (!(await progress(record))) return { kind: 'lost' };
            runs.set(key, { ...record, executionId: execution.id, seq: runs.size });
            await emit('actionExecuted', { stepKey: key, stepId: step.id, output: { result } });
          }
          context.steps[step.id] = { output: { result } };
          const branch = result ? step.then : (step.else ?? []);
          const outcome = await walk(branch, prefix, context);
          if (outcome.kind !== 'done') return outcome;
          continue;
        }
        if (step.type === 'forEach') {
          if (previous?.status === 'succeeded') {
            context.steps[step.id] = { output: previous.output };
            continue;
          }
          const ctx = { ...context, step: { id: step.id } };
          let items: unknown;
          try {
            items = renderWorkflowJson(step.items, ctx, `${key}.items`);
            if (!Array.isArray(items))
              throw new StepError('invalid_input', `${key}.items: expected an array`);
          } catch (error) {
            return fail(
              step,
              key,
              { stepKey: key, stepId: step.id, kind: step.type, startedAtMs: clock.nowMs() },
              undefined,
              1,
              StepError.from(error),
            );
          }
          const list = items as unknown[];
          const outcomes: Outcome[] = new Array(list.length);
          const results: Array<Record<string, unknown>> = new Array(list.length);
          let next = 0;
          const worker = async (): Promise<void> => {
            while (next < list.length) {
              const i = next++;
              const iteration: WorkflowContext = {
                ...context,
                steps: { ...context.steps },
                item: list[i],
                index: i,
              };
              outcomes[i] = await walk(step.steps, `${key}[${i}].`, iteration);
              // Every step the iteration ran, branches of its conditions included.
              const outputs: Record<string, unknown> = {};
              for (const [id, value] of Object.entries(iteration.steps)) {
                if (context.steps[id] !== value) outputs[id] = value.output;
              }
              results[i] = outputs;
              if (outcomes[i]?.kind === 'failed' || outcomes[i]?.kind === 'lost') next = list.length;
            }
          };
          await Promise.all(
            Array.from({ length: Math.min(step.concurrency ?? 1, Math.max(1, list.length)) }, worker),
          );
          const worst = worstOf(outcomes.filter(Boolean));
          if (worst.kind !== 'done') return worst;
          const nowMs = clock.nowMs();
          const record = {
            stepKey: key,
            stepId: step.id,
            kind: step.type,
            status: 'succeeded' as const,
            input: { count: list.length },
            output: results,
            attempts: 1,
            error: null,
            waitEvent: null,
            wakeAtMs: null,
            startedAtMs: nowMs,
            finishedAtMs: nowMs,
          };
          if (!(await progress(record))) return { kind: 'lost' };
          runs.set(key, { ...record, executionId: execution.id, seq: runs.size });
          context.steps[step.id] = { output: results };
          await emit('actionExecuted', { stepKey: key, stepId: step.id, output: { count: list.length } });
          continue;
        }
        if (previous?.status === 'succeeded') {
          context.steps[step.id] = { output: previous.output };
          continue;
        }
        const outcome = await runLeaf(step, key, context);
        if (outcome.kind !== 'done') return outcome;
      }
      return { kind: 'done' };
    }

    const outcome = await walk(doc.steps, '', baseContext);
    const nowMs = clock.nowMs();
    const end = (
      status: ExecutionStatus,
      extra: Partial<ExecutionProgress['execution']> = {},
      nextRunAtMs = nowMs,
    ): Promise<boolean> =>
      commit({
        executionId: execution.id,
        holder,
        execution: { status, nextRunAtMs, leasedUntilMs: null, ...extra },
        nowMs,
      });
    switch (outcome.kind) {
      case 'lost':
        return;
      case 'suspend':
        await end(outcome.waiting ? 'waiting' : 'running', {}, outcome.untilMs);
        schedule(outcome.untilMs);
        return;
      case 'done':
        if (await end('completed', { finishedAtMs: nowMs })) {
          events.emit(`finished:${execution.id}`, 'completed');
          await emit('completed');
        }
        return;
      case 'failed':
        if (
          await end('failed', {
            finishedAtMs: nowMs,
            error: { ...outcome.error, workflowActionId: outcome.stepId },
          })
        ) {
          events.emit(`finished:${execution.id}`, 'failed');
          await emit('failed', { stepKey: outcome.stepKey, stepId: outcome.stepId, error: outcome.error });
        }
        return;
    }
  }

  // A suspended execution due within the poll interval is claimed on time, not at the next poll.
  function schedule(atMs: number): void {
    const delayMs = atMs - clock.nowMs();
    if (delayMs > pollMs) return;
    setTimeout(() => void claimLoop(), Math.max(0, delayMs)).unref();
  }

  return {
    events,
    start() {
      if (!stopped) return;
      stopped = false;
      void claimLoop();
      schedulePoll();
    },
    wake() {
      void claimLoop();
    },
    waitForResponse(executionId, projectId, timeoutMs) {
      return new Promise((resolve) => {
        let settled = false;
        const finish = (value: unknown | null) => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          clearInterval(poll);
          events.off(`response:${executionId}`, onResponse);
          resolve(value);
        };
        const onResponse = (value: unknown) => finish(value);
        events.on(`response:${executionId}`, onResponse);
        const deadline = setTimeout(() => finish(null), timeoutMs);
        // Another process may run the execution: its answer is read from the store.
        const poll = setInterval(() => {
          void store.getExecution(projectId as ClaimedExecution['projectId'], executionId).then((e) => {
            if (e && e.response !== null) finish(e.response);
          });
        }, 250);
      });
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.allSettled([...running.values()]);
      await committer.idle();
    },
  };
}

function worstOf(outcomes: Outcome[]): Outcome {
  const failed = outcomes.find((o) => o.kind === 'failed');
  if (failed) return failed;
  if (outcomes.some((o) => o.kind === 'lost')) return { kind: 'lost' };
  const suspended = outcomes.filter((o): o is Extract<Outcome, { kind: 'suspend' }> => o.kind === 'suspend');
  if (suspended.length > 0) {
    return {
      kind: 'suspend',
      untilMs: Math.min(...suspended.map((s) => s.untilMs)),
      waiting: suspended.every((s) => s.waiting),
    };
  }
  return { kind: 'done' };
}
