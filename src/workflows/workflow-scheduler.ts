import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { Store } from '../store/store.ts';
import { planSchedule, type ScheduleTrigger } from './schedule-plan.ts';
import type { WorkflowDocument } from './workflow-document.ts';
import { userMayRun, type WorkflowTriggers } from './workflow-triggers.ts';

/**
 * Fires schedule triggers. Each tick looks at every deployed schedule workflow, finds its fire
 * times since its cursor (kept in the store's settings, so a restart knows what it missed), and
 * starts one execution per (workflow, user who enabled it, fire time) with the run key
 * `{workflow}:{user}:{fire ms}`: the store's unique key, not a lock, makes a fire time run once
 * however many processes tick.
 *
 * A fire time older than the grace window was missed (the process was down): `misfire: "skip"`
 * (the default) drops those, `{ catchUp: N }` runs the latest N of them. `overlap: "skip"` starts
 * nothing for a user whose previous execution of the workflow is still active.
 */
export interface WorkflowScheduler {
  start(): void;
  /** One pass at the clock's time (tests drive it with a fake clock). */
  tick(): Promise<number>;
  stop(): Promise<void>;
}

/** The most fire times one workflow starts in one tick. */
const MAX_FIRES_PER_TICK = 100;

export function createWorkflowScheduler(
  deps: { store: Store; clock: Clock; logger: Logger; triggers: WorkflowTriggers },
  options: { tickMs: number; graceMs?: number },
): WorkflowScheduler {
  const { store, clock, triggers } = deps;
  const log = deps.logger.child({ scope: 'workflow-scheduler' });
  const graceMs = options.graceMs ?? Math.max(options.tickMs * 3, 5000);
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  let stopped = true;

  async function tick(): Promise<number> {
    const nowMs = clock.nowMs();
    let started = 0;
    for (const workflow of await store.listDeployedWorkflows('schedule')) {
      const doc = workflow.document as unknown as WorkflowDocument;
      const trigger = doc.trigger as ScheduleTrigger;
      const cursorKey = `workflow-schedule:${workflow.id}:${workflow.version}`;
      const stored = await store.getSetting(cursorKey);
      // A new schedule (or version) starts from now: nothing before it was missed.
      const cursorMs = stored === null ? nowMs - graceMs : Number(stored);
      const anchorMs = trigger.anchor !== undefined ? Date.parse(trigger.anchor) : workflow.createdAtMs;
      const plan = planSchedule(trigger, anchorMs);
      const onTimeFrom = Math.max(cursorMs, nowMs - graceMs);
      const fires = plan.between(onTimeFrom, nowMs, MAX_FIRES_PER_TICK);
      const misfire = trigger.misfire ?? 'skip';
      if (misfire !== 'skip' && cursorMs < onTimeFrom) {
        fires.unshift(...plan.between(cursorMs, onTimeFrom, misfire.catchUp));
      }
      if (fires.length > 0) {
        const users = await store.listEnabledUsers(workflow.projectId, workflow.id);
        for (const userId of users) {
          if (!(await userMayRun(store, workflow.projectId, userId, doc.integration))) continue;
          for (const fireMs of fires) {
            if (trigger.overlap === 'skip' && (await store.hasActiveExecution(workflow.id, userId))) break;
            const ids = await triggers.start(
              workflow.projectId,
              userId,
              [workflow],
              { scheduledAt: new Date(fireMs).toISOString() },
              [`${workflow.id}:${userId}:${fireMs}`],
            );
            started += ids.length;
          }
        }
      }
      await store.putSetting(cursorKey, String(nowMs), nowMs);
    }
    return started;
  }

  function loop(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((error: unknown) => log.error({ err: error }, 'schedule tick failed'))
        .finally(() => {
          running = null;
          loop();
        });
    }, options.tickMs);
    timer.unref();
  }

  return {
    tick,
    start() {
      if (!stopped) return;
      stopped = false;
      loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
