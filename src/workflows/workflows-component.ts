import { randomBytes } from 'node:crypto';
import type { Component, ComponentContext } from '../component.ts';
import { parseEgressAllowList } from '../delivery/egress-guard.ts';
import type { Publisher } from '../delivery/publisher.ts';
import { createSandbox } from '../sandbox/sandbox.ts';
import { createStepRunners } from './step-runners.ts';
import { createWorkflowRunner, type WorkflowRunner, type WorkflowRunnerOptions } from './workflow-runner.ts';
import { createWorkflowScheduler, type WorkflowScheduler } from './workflow-scheduler.ts';
import { createWorkflowService, type WorkflowService } from './workflow-service.ts';
import { createWorkflowTriggers, type WorkflowTriggers } from './workflow-triggers.ts';

export interface WorkflowsComponent extends Component {
  readonly workflows: WorkflowService;
  readonly triggers: WorkflowTriggers;
  /** The runner, when this process runs the `delivery` role (the background workers). */
  readonly runner: WorkflowRunner | null;
  readonly scheduler: WorkflowScheduler | null;
}

/**
 * The workflows area: documents and app events (the service the management routes are wired to),
 * the trigger entry point, and, on processes with the `delivery` role, the durable runner and the
 * scheduler.
 */
export function createWorkflowsComponent(
  ctx: ComponentContext,
  deps: { publisher: Publisher },
  options: { runner?: Partial<WorkflowRunnerOptions>; schedulerTickMs?: number } = {},
): WorkflowsComponent {
  const { config, store, clock, logger } = ctx;
  const workers = config.roles.includes('delivery');
  const sandbox = workers ? createSandbox() : null;
  const steps = sandbox
    ? createStepRunners({
        sandbox,
        publisher: deps.publisher,
        egressAllow: parseEgressAllowList(config.egressAllow),
      })
    : null;
  const runner =
    steps !== null
      ? createWorkflowRunner(
          { store, clock, logger, publisher: deps.publisher, steps },
          {
            holder: `wfr_${randomBytes(8).toString('hex')}`,
            leaseMs: config.workflowLeaseMs,
            ...options.runner,
          },
        )
      : null;
  const workflows = createWorkflowService({ store, clock });
  const triggers = createWorkflowTriggers({ store, clock, runner });
  const scheduler = workers
    ? createWorkflowScheduler({ store, clock, logger, triggers }, { tickMs: options.schedulerTickMs ?? 1000 })
    : null;
  return {
    workflows,
    triggers,
    runner,
    scheduler,
    async start() {
      // The sandbox thread boots now, so the first code step does not wait for it.
      sandbox?.run('function handler() { return 0 }', null).catch(() => {});
      runner?.start();
      scheduler?.start();
    },
    async stop() {
      await scheduler?.stop();
      await runner?.stop();
      await steps?.close();
      await sandbox?.close();
    },
  };
}
