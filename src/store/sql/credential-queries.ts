import type { CredentialId, ProjectId } from '../../domain/ids.ts';
import type {
  ConnectSettingsRecord,
  CredentialRecord,
  CredentialStatus,
  CredentialStore,
  OAuthStateRecord,
} from '../credential-store.ts';
import type { Db } from './db.ts';
import { num, pageOf } from './sql-lists.ts';

interface CredentialRow {
  id: string;
  project_id: string;
  user_id: string;
  integration: string;
  provider_account_id: string | null;
  auth_type: string;
  secrets_sealed: string;
  access_token_expires_at_ms: number | string | null;
  settings_sealed: string;
  status: string;
  status_reason: string | null;
  version: number | string;
  refresh_lease_owner: string | null;
  refresh_lease_until_ms: number | string | null;
  last_refreshed_at_ms: number | string | null;
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

interface StateRow {
  state_hash: string;
  project_id: string;
  user_id: string;
  integration: string;
  redirect_url: string;
  code_verifier_sealed: string | null;
  settings_sealed: string;
  expires_at_ms: number | string;
  created_at_ms: number | string;
}

const toCredential = (r: CredentialRow): CredentialRecord => ({
  id: r.id as CredentialId,
  projectId: r.project_id as ProjectId,
  userId: r.user_id,
  integration: r.integration,
  providerAccountId: r.provider_account_id,
  authType: r.auth_type as CredentialRecord['authType'],
  secretsSealed: r.secrets_sealed,
  accessTokenExpiresAtMs: num(r.access_token_expires_at_ms as number | null),
  settingsSealed: r.settings_sealed,
  status: r.status as CredentialStatus,
  statusReason: r.status_reason,
  version: Number(r.version),
  refreshLeaseOwner: r.refresh_lease_owner,
  refreshLeaseUntilMs: num(r.refresh_lease_until_ms as number | null),
  lastRefreshedAtMs: num(r.last_refreshed_at_ms as number | null),
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});

const toState = (r: StateRow): OAuthStateRecord => ({
  stateHash: r.state_hash,
  projectId: r.project_id as ProjectId,
  userId: r.user_id,
  integration: r.integration,
  redirectUrl: r.redirect_url,
  codeVerifierSealed: r.code_verifier_sealed,
  settingsSealed: r.settings_sealed,
  expiresAtMs: Number(r.expires_at_ms),
  createdAtMs: Number(r.created_at_ms),
});

const COLUMNS = [
  'id',
  'project_id',
  'user_id',
  'integration',
  'provider_account_id',
  'auth_type',
  'secrets_sealed',
  'access_token_expires_at_ms',
  'settings_sealed',
  'status',
  'status_reason',
  'version',
  'refresh_lease_owner',
  'refresh_lease_until_ms',
  'last_refreshed_at_ms',
  'created_at_ms',
  'updated_at_ms',
];

export function createCredentialQueries(db: Db): CredentialStore {
  return {
    async insertCredential(c) {
      const { changes } = await db.run(
        `INSERT INTO credentials (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (project_id, user_id, integration, provider_account_id) WHERE provider_account_id IS NOT NULL DO NOTHING`,
        [
          c.id,
          c.projectId,
          c.userId,
          c.integration,
          c.providerAccountId,
          c.authType,
          c.secretsSealed,
          c.accessTokenExpiresAtMs,
          c.settingsSealed,
          c.status,
          c.statusReason,
          c.version,
          c.refreshLeaseOwner,
          c.refreshLeaseUntilMs,
          c.lastRefreshedAtMs,
          c.createdAtMs,
          c.updatedAtMs,
        ],
      );
      return changes > 0;
    },
    async getCredential(projectId, id) {
      const row = await db.get<CredentialRow>('SELECT * FROM credentials WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ]);
      return row ? toCredential(row) : null;
    },
    async getCredentialById(id) {
      const row = await db.get<CredentialRow>('SELECT * FROM credentials WHERE id = ?', [id]);
      return row ? toCredential(row) : null;
    },
    async findCredentialByAccount(projectId, userId, integration, providerAccountId) {
      const row = await db.get<CredentialRow>(
        'SELECT * FROM credentials WHERE project_id = ? AND user_id = ? AND integration = ? AND provider_account_id = ?',
        [projectId, userId, integration, providerAccountId],
      );
      return row ? toCredential(row) : null;
    },
    async listCredentials(projectId, { userId, integration, limit, after }) {
      const where = ['project_id = ?', 'id > ?'];
      const params: (string | number)[] = [projectId, after ?? ''];
      if (userId !== undefined) {
        where.push('user_id = ?');
        params.push(userId);
      }
      if (integration !== undefined) {
        where.push('integration = ?');
        params.push(integration);
      }
      params.push(limit + 1);
      const rows = await db.all<CredentialRow>(
        `SELECT * FROM credentials WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`,
        params,
      );
      const page = pageOf(rows, limit);
      return { items: page.rows.map(toCredential), nextCursor: page.nextCursor };
    },
    async deleteCredential(projectId, id) {
      const { changes } = await db.run('DELETE FROM credentials WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ]);
      return changes > 0;
    },
    async reconnectCredential(id, u) {
      const row = await db.get<CredentialRow>(
        `UPDATE credentials SET secrets_sealed = ?, access_token_expires_at_ms = ?, settings_sealed = ?,
           provider_account_id = ?, status = 'active', status_reason = NULL, version = version + 1,
           refresh_lease_owner = NULL, refresh_lease_until_ms = NULL, last_refreshed_at_ms = ?, updated_at_ms = ?
         WHERE id = ? RETURNING *`,
        [
          u.secretsSealed,
          u.accessTokenExpiresAtMs,
          u.settingsSealed,
          u.providerAccountId,
          u.nowMs,
          u.nowMs,
          id,
        ],
      );
      return row ? toCredential(row) : null;
    },
    async claimCredentialRefresh(id, version, owner, nowMs, leaseUntilMs) {
      const { changes } = await db.run(
        `UPDATE credentials SET refresh_lease_owner = ?, refresh_lease_until_ms = ?
         WHERE id = ? AND version = ? AND (refresh_lease_until_ms IS NULL OR refresh_lease_until_ms <= ? OR refresh_lease_owner = ?)`,
        [owner, leaseUntilMs, id, version, nowMs, owner],
      );
      return changes > 0;
    },
    async completeCredentialRefresh(id, owner, u) {
      const row = await db.get<CredentialRow>(
        `UPDATE credentials SET secrets_sealed = ?, access_token_expires_at_ms = ?, version = version + 1,
           status = 'active', status_reason = NULL,
           refresh_lease_owner = NULL, refresh_lease_until_ms = NULL, last_refreshed_at_ms = ?, updated_at_ms = ?
         WHERE id = ? AND refresh_lease_owner = ? RETURNING *`,
        [u.secretsSealed, u.accessTokenExpiresAtMs, u.nowMs, u.nowMs, id, owner],
      );
      return row ? toCredential(row) : null;
    },
    async failCredentialRefresh(id, owner, status, reason, nowMs) {
      const row = await db.get<CredentialRow>(
        `UPDATE credentials SET status = ?, status_reason = ?, version = version + 1,
           refresh_lease_owner = NULL, refresh_lease_until_ms = NULL, updated_at_ms = ?
         WHERE id = ? AND refresh_lease_owner = ? RETURNING *`,
        [status, reason, nowMs, id, owner],
      );
      return row ? toCredential(row) : null;
    },

    async insertOAuthState(s) {
      await db.run(
        'INSERT INTO oauth_states (state_hash, project_id, user_id, integration, redirect_url, code_verifier_sealed, settings_sealed, expires_at_ms, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          s.stateHash,
          s.projectId,
          s.userId,
          s.integration,
          s.redirectUrl,
          s.codeVerifierSealed,
          s.settingsSealed,
          s.expiresAtMs,
          s.createdAtMs,
        ],
      );
    },
    async countOAuthStates(projectId, nowMs) {
      const row = await db.get<{ n: number | string }>(
        'SELECT COUNT(*) AS n FROM oauth_states WHERE project_id = ? AND expires_at_ms > ?',
        [projectId, nowMs],
      );
      return Number(row?.n ?? 0);
    },
    async takeOAuthState(stateHash, nowMs) {
      // The DELETE decides who takes it: of two callbacks with one state, one deletes the row.
      const row = await db.get<StateRow>('DELETE FROM oauth_states WHERE state_hash = ? RETURNING *', [
        stateHash,
      ]);
      await db.run('DELETE FROM oauth_states WHERE expires_at_ms <= ?', [nowMs]);
      if (!row) return null;
      const state = toState(row);
      return state.expiresAtMs > nowMs ? state : null;
    },

    async getConnectSettings(projectId) {
      const row = await db.get<{
        project_id: string;
        allowed_redirect_origins: string;
        updated_at_ms: number;
      }>('SELECT * FROM connect_settings WHERE project_id = ?', [projectId]);
      return row
        ? {
            projectId: row.project_id as ProjectId,
            allowedRedirectOrigins: JSON.parse(row.allowed_redirect_origins) as string[],
            updatedAtMs: Number(row.updated_at_ms),
          }
        : null;
    },
    async putConnectSettings(s: ConnectSettingsRecord) {
      await db.run(
        'INSERT INTO connect_settings (project_id, allowed_redirect_origins, updated_at_ms) VALUES (?, ?, ?) ON CONFLICT (project_id) DO UPDATE SET allowed_redirect_origins = excluded.allowed_redirect_origins, updated_at_ms = excluded.updated_at_ms',
        [s.projectId, JSON.stringify(s.allowedRedirectOrigins), s.updatedAtMs],
      );
    },
  };
}
