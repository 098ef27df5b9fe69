import type { CredentialId, ProjectId, TriggerSubscriptionId } from '../../domain/ids.ts';
import type {
  TriggerSubscriptionRecord,
  TriggerSubscriptionStatus,
  TriggerSubscriptionStore,
} from '../trigger-subscription-store.ts';
import type { Db } from './db.ts';
import { num, pageOf } from './sql-lists.ts';

interface Row {
  id: string;
  project_id: string;
  integration: string;
  trigger_type: string;
  credential_id: string;
  user_id: string;
  parameters: string;
  status: string;
  error: string | null;
  provider_subscription_id: string | null;
  secret_sealed: string | null;
  saved: string;
  expires_at_ms: number | string | null;
  webhook_override: string | null;
  created_at_ms: number | string;
  updated_at_ms: number | string;
  last_received_event_at_ms: number | string | null;
}

const toRecord = (r: Row): TriggerSubscriptionRecord => ({
  id: r.id as TriggerSubscriptionId,
  projectId: r.project_id as ProjectId,
  integration: r.integration,
  triggerType: r.trigger_type,
  credentialId: r.credential_id as CredentialId,
  userId: r.user_id,
  parameters: JSON.parse(r.parameters) as Record<string, unknown>,
  status: r.status as TriggerSubscriptionStatus,
  error: r.error,
  providerSubscriptionId: r.provider_subscription_id,
  secretSealed: r.secret_sealed,
  saved: JSON.parse(r.saved) as Record<string, unknown>,
  expiresAtMs: num(r.expires_at_ms as number | null),
  webhookOverride: r.webhook_override
    ? (JSON.parse(r.webhook_override) as TriggerSubscriptionRecord['webhookOverride'])
    : null,
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
  lastReceivedEventAtMs: num(r.last_received_event_at_ms as number | null),
});

const COLUMNS = [
  'id',
  'project_id',
  'integration',
  'trigger_type',
  'credential_id',
  'user_id',
  'parameters',
  'status',
  'error',
  'provider_subscription_id',
  'secret_sealed',
  'saved',
  'expires_at_ms',
  'webhook_override',
  'created_at_ms',
  'updated_at_ms',
  'last_received_event_at_ms',
];

export function createTriggerSubscriptionQueries(db: Db): TriggerSubscriptionStore {
  return {
    async insertTriggerSubscription(s) {
      await db.run(
        `INSERT INTO trigger_subscriptions (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
        [
          s.id,
          s.projectId,
          s.integration,
          s.triggerType,
          s.credentialId,
          s.userId,
          JSON.stringify(s.parameters),
          s.status,
          s.error,
          s.providerSubscriptionId,
          s.secretSealed,
          JSON.stringify(s.saved),
          s.expiresAtMs,
          s.webhookOverride ? JSON.stringify(s.webhookOverride) : null,
          s.createdAtMs,
          s.updatedAtMs,
          s.lastReceivedEventAtMs,
        ],
      );
    },
    async getTriggerSubscription(projectId, id) {
      const row = await db.get<Row>('SELECT * FROM trigger_subscriptions WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ]);
      return row ? toRecord(row) : null;
    },
    async getTriggerSubscriptionById(id) {
      const row = await db.get<Row>('SELECT * FROM trigger_subscriptions WHERE id = ?', [id]);
      return row ? toRecord(row) : null;
    },
    async listTriggerSubscriptions(projectId, { limit, after, ...filter }) {
      const where = ['project_id = ?', 'id > ?'];
      const params: (string | number)[] = [projectId, after ?? ''];
      const columns = {
        integration: 'integration',
        triggerType: 'trigger_type',
        status: 'status',
        userId: 'user_id',
        credentialId: 'credential_id',
      } as const;
      for (const [name, column] of Object.entries(columns)) {
        const value = filter[name as keyof typeof columns];
        if (value !== undefined) {
          where.push(`${column} = ?`);
          params.push(value);
        }
      }
      params.push(limit + 1);
      const rows = await db.all<Row>(
        `SELECT * FROM trigger_subscriptions WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`,
        params,
      );
      const page = pageOf(rows, limit);
      return { items: page.rows.map(toRecord), nextCursor: page.nextCursor };
    },
    async listTriggerSubscriptionsOfCredential(credentialId) {
      const rows = await db.all<Row>(
        'SELECT * FROM trigger_subscriptions WHERE credential_id = ? ORDER BY id',
        [credentialId],
      );
      return rows.map(toRecord);
    },
    async listTriggerSubscriptionsExpiring(untilMs, limit) {
      const rows = await db.all<Row>(
        `SELECT * FROM trigger_subscriptions WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= ? AND status <> 'ERRORED'
         ORDER BY expires_at_ms, id LIMIT ?`,
        [untilMs, limit],
      );
      return rows.map(toRecord);
    },
    async updateTriggerSubscriptionState(id, u) {
      const row = await db.get<Row>(
        `UPDATE trigger_subscriptions SET status = ?, error = ?, provider_subscription_id = ?, secret_sealed = ?,
           saved = ?, expires_at_ms = ?, updated_at_ms = ? WHERE id = ? RETURNING *`,
        [
          u.status,
          u.error,
          u.providerSubscriptionId,
          u.secretSealed,
          JSON.stringify(u.saved),
          u.expiresAtMs,
          u.nowMs,
          id,
        ],
      );
      return row ? toRecord(row) : null;
    },
    async touchTriggerSubscriptionEvent(id, atMs) {
      await db.run(
        `UPDATE trigger_subscriptions SET last_received_event_at_ms = ?
         WHERE id = ? AND (last_received_event_at_ms IS NULL OR last_received_event_at_ms < ?)`,
        [atMs, id, atMs],
      );
    },
    async deleteTriggerSubscription(projectId, id) {
      const { changes } = await db.run('DELETE FROM trigger_subscriptions WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ]);
      return changes > 0;
    },
  };
}
