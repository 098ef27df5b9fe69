import type { ApiKeyId, ProjectId } from '../../domain/ids.ts';
import type { Page } from '../page.ts';
import type { ApiKeyRecord, ProjectRecord, ProjectStore } from '../store.ts';
import type { Db } from './db.ts';

interface ProjectRow {
  id: string;
  name: string;
  signing_public_key: string;
  signing_private_key_sealed: string;
  created_at_ms: number;
}
interface ApiKeyRow {
  id: string;
  project_id: string;
  name: string;
  key_hash: string;
  key_hint: string;
  created_at_ms: number;
  revoked_at_ms: number | null;
}

const toProject = (r: ProjectRow): ProjectRecord => ({
  id: r.id as ProjectId,
  name: r.name,
  signingPublicKey: r.signing_public_key,
  signingPrivateKeySealed: r.signing_private_key_sealed,
  createdAtMs: Number(r.created_at_ms),
});
const toApiKey = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id as ApiKeyId,
  projectId: r.project_id as ProjectId,
  name: r.name,
  keyHash: r.key_hash,
  keyHint: r.key_hint,
  createdAtMs: Number(r.created_at_ms),
  revokedAtMs: r.revoked_at_ms === null ? null : Number(r.revoked_at_ms),
});

export function createProjectQueries(db: Db): ProjectStore {
  return {
    async insertProject(p) {
      await db.run(
        'INSERT INTO projects (id, name, signing_public_key, signing_private_key_sealed, created_at_ms) VALUES (?, ?, ?, ?, ?)',
        [p.id, p.name, p.signingPublicKey, p.signingPrivateKeySealed, p.createdAtMs],
      );
    },
    async getProject(id) {
      const row = await db.get<ProjectRow>('SELECT * FROM projects WHERE id = ?', [id]);
      return row ? toProject(row) : null;
    },
    async listProjects({ limit, after, projectIds }): Promise<Page<ProjectRecord>> {
      const params: (string | number)[] = [after ?? ''];
      let filter = '';
      if (projectIds) {
        if (projectIds.length === 0) return { items: [], nextCursor: null };
        filter = ` AND id IN (${projectIds.map(() => '?').join(', ')})`;
        params.push(...projectIds);
      }
      params.push(limit + 1);
      const rows = await db.all<ProjectRow>(
        `SELECT * FROM projects WHERE id > ?${filter} ORDER BY id LIMIT ?`,
        params,
      );
      const items = rows.slice(0, limit).map(toProject);
      return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
    },
    async insertApiKey(k) {
      await db.run(
        'INSERT INTO api_keys (id, project_id, name, key_hash, key_hint, created_at_ms, revoked_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [k.id, k.projectId, k.name, k.keyHash, k.keyHint, k.createdAtMs, k.revokedAtMs],
      );
    },
    async findApiKeyByHash(hash) {
      const row = await db.get<ApiKeyRow>(
        'SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at_ms IS NULL',
        [hash],
      );
      return row ? toApiKey(row) : null;
    },
    async listApiKeys(projectId) {
      const rows = await db.all<ApiKeyRow>('SELECT * FROM api_keys WHERE project_id = ? ORDER BY id', [
        projectId,
      ]);
      return rows.map(toApiKey);
    },
    async revokeApiKey(projectId, id, nowMs) {
      const { changes } = await db.run(
        'UPDATE api_keys SET revoked_at_ms = ? WHERE project_id = ? AND id = ? AND revoked_at_ms IS NULL',
        [nowMs, projectId, id],
      );
      return changes > 0;
    },
    async getSetting(key) {
      const row = await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
      return row?.value ?? null;
    },
    async putSettingIfAbsent(key, value, nowMs) {
      const { changes } = await db.run(
        'INSERT INTO settings (key, value, updated_at_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING',
        [key, value, nowMs],
      );
      return changes > 0;
    },
    async putSetting(key, value, nowMs) {
      await db.run(
        'INSERT INTO settings (key, value, updated_at_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at_ms = excluded.updated_at_ms',
        [key, value, nowMs],
      );
    },
  };
}
