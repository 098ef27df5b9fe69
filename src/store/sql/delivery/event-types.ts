import type { ProjectId } from '../../../domain/ids.ts';
import type { DeliveryStore, EventTypeRecord } from '../../delivery-store.ts';
import type { Db } from '../db.ts';

/** Event types a project registered (name, description, example) for docs and the dashboard. */

interface EventTypeRow {
  project_id: string;
  name: string;
  description: string;
  example: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

const toEventType = (r: EventTypeRow): EventTypeRecord => ({
  projectId: r.project_id as ProjectId,
  name: r.name,
  description: r.description,
  example: r.example === null ? null : (JSON.parse(r.example) as unknown),
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});

export type EventTypeQueries = Pick<DeliveryStore, 'upsertEventType' | 'getEventType' | 'listEventTypes'>;

export function createEventTypeQueries(db: Db): EventTypeQueries {
  async function getEventType(projectId: ProjectId, name: string): Promise<EventTypeRecord | null> {
    const row = await db.get<EventTypeRow>('SELECT * FROM event_types WHERE project_id = ? AND name = ?', [
      projectId,
      name,
    ]);
    return row ? toEventType(row) : null;
  }
  return {
    async upsertEventType(t) {
      await db.run(
        'INSERT INTO event_types (project_id, name, description, example, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, name) DO UPDATE SET description = excluded.description, example = excluded.example, updated_at_ms = excluded.updated_at_ms',
        [
          t.projectId,
          t.name,
          t.description,
          t.example === null ? null : JSON.stringify(t.example),
          t.createdAtMs,
          t.updatedAtMs,
        ],
      );
      const stored = await getEventType(t.projectId, t.name);
      if (!stored) throw new Error('event type vanished after upsert');
      return stored;
    },
    getEventType,
    async listEventTypes(projectId) {
      const rows = await db.all<EventTypeRow>(
        'SELECT * FROM event_types WHERE project_id = ? ORDER BY name',
        [projectId],
      );
      return rows.map(toEventType);
    },
  };
}
