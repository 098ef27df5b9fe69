import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { isId, newId, type ProjectId, type WorkflowId } from '../domain/ids.ts';
import type { Page } from '../store/page.ts';
import type { Store } from '../store/store.ts';
import type { AppEventRecord, WorkflowRecord } from '../store/workflow-store.ts';
import { triggerKeyOf, type WorkflowDocument } from './workflow-document.ts';
import { missingCredentialDetail, userMayRun } from './workflow-triggers.ts';
import { parseWorkflowDocument } from './workflow-validation.ts';

export interface WorkflowView extends WorkflowDocument {
  id: WorkflowId;
  version: number;
  deployed: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface AppEventView {
  name: string;
  schema: unknown;
  validate: boolean;
  createdAt: string;
  updatedAt: string;
}

/** A user id as the project knows it. */
export const USER_ID_PATTERN = /^[\x21-\x7e]{1,256}$/;

function view(w: WorkflowRecord, document: Record<string, unknown>): WorkflowView {
  return {
    ...(document as unknown as WorkflowDocument),
    id: w.id,
    version: w.version,
    deployed: w.deployed,
    createdAt: new Date(w.createdAtMs).toISOString(),
    updatedAt: new Date(w.updatedAtMs).toISOString(),
  };
}

const appEventView = (e: AppEventRecord): AppEventView => ({
  name: e.name,
  schema: e.schema,
  validate: e.validate,
  createdAt: new Date(e.createdAtMs).toISOString(),
  updatedAt: new Date(e.updatedAtMs).toISOString(),
});

/** Workflow documents (kept in versions), their deployment, per-user enablement and app events. */
export function createWorkflowService(deps: { store: Store; clock: Clock }) {
  const { store, clock } = deps;

  async function current(projectId: ProjectId, id: string): Promise<WorkflowRecord> {
    const w = isId('workflow', id) ? await store.getWorkflow(projectId, id) : null;
    if (!w) throw notFound(`workflow ${id}`);
    return w;
  }

  async function withDocument(w: WorkflowRecord): Promise<WorkflowView> {
    const version = await store.getWorkflowVersion(w.projectId, w.id, w.version);
    if (!version) throw notFound(`workflow ${w.id} version ${w.version}`);
    return view(w, version.document);
  }

  return {
    async create(projectId: ProjectId, input: unknown): Promise<WorkflowView> {
      const doc = parseWorkflowDocument(input);
      const nowMs = clock.nowMs();
      const record: WorkflowRecord = {
        id: newId('workflow', nowMs),
        projectId,
        name: doc.name,
        version: 1,
        deployed: false,
        triggerType: doc.trigger.type,
        triggerKey: triggerKeyOf(doc.trigger),
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      };
      await store.insertWorkflow(record, doc as unknown as Record<string, unknown>);
      return view(record, doc as unknown as Record<string, unknown>);
    },
    async get(projectId: ProjectId, id: string): Promise<WorkflowView> {
      return withDocument(await current(projectId, id));
    },
    async list(
      projectId: ProjectId,
      options: { limit: number; after?: string },
    ): Promise<Page<WorkflowView>> {
      const page = await store.listWorkflows(projectId, options);
      return { items: await Promise.all(page.items.map(withDocument)), nextCursor: page.nextCursor };
    },
    /** A new version; executions already started finish on the version they started with. */
    async update(projectId: ProjectId, id: string, input: unknown): Promise<WorkflowView> {
      await current(projectId, id);
      const doc = parseWorkflowDocument(input);
      const updated = await store.addWorkflowVersion(
        projectId,
        id as WorkflowId,
        {
          name: doc.name,
          triggerType: doc.trigger.type,
          triggerKey: triggerKeyOf(doc.trigger),
          document: doc as unknown as Record<string, unknown>,
        },
        clock.nowMs(),
      );
      if (!updated) throw notFound(`workflow ${id}`);
      return view(updated, doc as unknown as Record<string, unknown>);
    },
    async remove(projectId: ProjectId, id: string): Promise<void> {
      await current(projectId, id);
      if (!(await store.deleteWorkflow(projectId, id as WorkflowId, clock.nowMs())))
        throw notFound(`workflow ${id}`);
    },
    async setDeployed(projectId: ProjectId, id: string, deployed: boolean): Promise<WorkflowView> {
      await current(projectId, id);
      await store.setWorkflowDeployed(projectId, id as WorkflowId, deployed, clock.nowMs());
      return withDocument(await current(projectId, id));
    },
    async setUserEnabled(projectId: ProjectId, id: string, userId: string, enabled: boolean): Promise<void> {
      if (!USER_ID_PATTERN.test(userId)) {
        throw new HookyardError('validation_failed', 'userId: expected 1 to 256 printable ASCII characters');
      }
      const workflow = await current(projectId, id);
      if (enabled) {
        const { integration } = (await withDocument(workflow)) as { integration?: string };
        if (!(await userMayRun(store, projectId, userId, integration))) {
          throw new HookyardError('conflict', missingCredentialDetail(id, userId, integration ?? ''));
        }
      }
      await store.setWorkflowUserEnabled(projectId, id as WorkflowId, userId, enabled, clock.nowMs());
    },

    async putAppEvent(
      projectId: ProjectId,
      input: { name: string; schema?: unknown; validate?: boolean },
    ): Promise<{ created: boolean; event: AppEventView }> {
      const nowMs = clock.nowMs();
      const existing = await store.getAppEvent(projectId, input.name);
      const record: AppEventRecord = {
        projectId,
        name: input.name,
        schema: input.schema ?? {},
        validate: input.validate ?? false,
        createdAtMs: existing?.createdAtMs ?? nowMs,
        updatedAtMs: nowMs,
      };
      await store.putAppEvent(record);
      return { created: existing === null, event: appEventView(record) };
    },
    async listAppEvents(projectId: ProjectId): Promise<AppEventView[]> {
      return (await store.listAppEvents(projectId)).map(appEventView);
    },
  };
}

export type WorkflowService = ReturnType<typeof createWorkflowService>;
