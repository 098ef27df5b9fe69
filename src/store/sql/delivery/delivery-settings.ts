import type { ProjectId } from '../../../domain/ids.ts';
import type { DeliveryStore } from '../../delivery-store.ts';
import type { Db } from '../db.ts';

/** A project's delivery settings: its retry schedule and egress allow list. */

export type DeliverySettingsQueries = Pick<DeliveryStore, 'getDeliverySettings' | 'putDeliverySettings'>;

export function createDeliverySettingsQueries(db: Db): DeliverySettingsQueries {
  return {
    async getDeliverySettings(projectId) {
      const row = await db.get<{
        project_id: string;
        retry_delays_ms: string | null;
        egress_allow: string | null;
        updated_at_ms: number;
      }>('SELECT * FROM delivery_settings WHERE project_id = ?', [projectId]);
      if (!row) return null;
      return {
        projectId: row.project_id as ProjectId,
        retryDelaysMs: row.retry_delays_ms === null ? null : (JSON.parse(row.retry_delays_ms) as number[]),
        egressAllow: row.egress_allow === null ? null : (JSON.parse(row.egress_allow) as string[]),
        updatedAtMs: Number(row.updated_at_ms),
      };
    },
    async putDeliverySettings(s) {
      await db.run(
        'INSERT INTO delivery_settings (project_id, retry_delays_ms, egress_allow, updated_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (project_id) DO UPDATE SET retry_delays_ms = excluded.retry_delays_ms, egress_allow = excluded.egress_allow, updated_at_ms = excluded.updated_at_ms',
        [
          s.projectId,
          s.retryDelaysMs === null ? null : JSON.stringify(s.retryDelaysMs),
          s.egressAllow === null ? null : JSON.stringify(s.egressAllow),
          s.updatedAtMs,
        ],
      );
    },
  };
}
