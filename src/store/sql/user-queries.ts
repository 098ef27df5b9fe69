import type { ProjectId, UserTokenKeyId } from '../../domain/ids.ts';
import type { UserStore, UserTokenAlgorithm, UserTokenKeyRecord } from '../user-store.ts';
import type { Db } from './db.ts';

interface UserTokenKeyRow {
  id: string;
  project_id: string;
  name: string;
  algorithm: string;
  public_jwk: string;
  created_at_ms: number | string;
}

const toKey = (r: UserTokenKeyRow): UserTokenKeyRecord => ({
  id: r.id as UserTokenKeyId,
  projectId: r.project_id as ProjectId,
  name: r.name,
  algorithm: r.algorithm as UserTokenAlgorithm,
  publicJwk: JSON.parse(r.public_jwk) as Record<string, unknown>,
  createdAtMs: Number(r.created_at_ms),
});

export function createUserQueries(db: Db): UserStore {
  return {
    async insertUserTokenKey(k) {
      await db.run(
        'INSERT INTO user_token_keys (id, project_id, name, algorithm, public_jwk, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)',
        [k.id, k.projectId, k.name, k.algorithm, JSON.stringify(k.publicJwk), k.createdAtMs],
      );
    },
    async listUserTokenKeys(projectId) {
      const rows = await db.all<UserTokenKeyRow>(
        'SELECT * FROM user_token_keys WHERE project_id = ? ORDER BY id',
        [projectId],
      );
      return rows.map(toKey);
    },
    async deleteUserTokenKey(projectId, id) {
      const { changes } = await db.run('DELETE FROM user_token_keys WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ]);
      return changes > 0;
    },
  };
}
