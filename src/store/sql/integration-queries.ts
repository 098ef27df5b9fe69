import type { ProjectId, SourceId } from '../../domain/ids.ts';
import type {
  IntegrationDefinitionRecord,
  IntegrationSettingsRecord,
  IntegrationStore,
} from '../integration-store.ts';
import type { Db } from './db.ts';

interface DefinitionRow {
  project_id: string;
  key: string;
  definition: string;
  created_at_ms: number | string;
  updated_at_ms: number | string;
}
interface SettingsRow {
  project_id: string;
  key: string;
  settings_sealed: string;
  app_source_id: string | null;
  updated_at_ms: number | string;
}

const toDefinition = (r: DefinitionRow): IntegrationDefinitionRecord => ({
  projectId: r.project_id as ProjectId,
  key: r.key,
  definition: JSON.parse(r.definition) as Record<string, unknown>,
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});
const toSettings = (r: SettingsRow): IntegrationSettingsRecord => ({
  projectId: r.project_id as ProjectId,
  key: r.key,
  settingsSealed: r.settings_sealed,
  appSourceId: r.app_source_id as SourceId | null,
  updatedAtMs: Number(r.updated_at_ms),
});

export function createIntegrationQueries(db: Db): IntegrationStore {
  return {
    async insertIntegrationDefinition(d) {
      const { changes } = await db.run(
        'INSERT INTO integration_definitions (project_id, key, definition, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, key) DO NOTHING',
        [d.projectId, d.key, JSON.stringify(d.definition), d.createdAtMs, d.updatedAtMs],
      );
      return changes > 0;
    },
    async getIntegrationDefinition(projectId, key) {
      const row = await db.get<DefinitionRow>(
        'SELECT * FROM integration_definitions WHERE project_id = ? AND key = ?',
        [projectId, key],
      );
      return row ? toDefinition(row) : null;
    },
    async listIntegrationDefinitions(projectId, limit) {
      const rows = await db.all<DefinitionRow>(
        'SELECT * FROM integration_definitions WHERE project_id = ? ORDER BY key LIMIT ?',
        [projectId, limit],
      );
      return rows.map(toDefinition);
    },
    async updateIntegrationDefinition(d) {
      const { changes } = await db.run(
        'UPDATE integration_definitions SET definition = ?, updated_at_ms = ? WHERE project_id = ? AND key = ?',
        [JSON.stringify(d.definition), d.updatedAtMs, d.projectId, d.key],
      );
      return changes > 0;
    },
    async deleteIntegrationDefinition(projectId, key) {
      return db.transaction(async (tx) => {
        const { changes } = await tx.run(
          'DELETE FROM integration_definitions WHERE project_id = ? AND key = ?',
          [projectId, key],
        );
        if (changes > 0) {
          await tx.run('DELETE FROM integration_settings WHERE project_id = ? AND key = ?', [projectId, key]);
        }
        return changes > 0;
      });
    },
    async putIntegrationSettings(s) {
      await db.run(
        'INSERT INTO integration_settings (project_id, key, settings_sealed, app_source_id, updated_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, key) DO UPDATE SET settings_sealed = excluded.settings_sealed, app_source_id = excluded.app_source_id, updated_at_ms = excluded.updated_at_ms',
        [s.projectId, s.key, s.settingsSealed, s.appSourceId, s.updatedAtMs],
      );
    },
    async getIntegrationSettings(projectId, key) {
      const row = await db.get<SettingsRow>(
        'SELECT * FROM integration_settings WHERE project_id = ? AND key = ?',
        [projectId, key],
      );
      return row ? toSettings(row) : null;
    },
    async listIntegrationSettings(projectId) {
      const rows = await db.all<SettingsRow>(
        'SELECT * FROM integration_settings WHERE project_id = ? ORDER BY key',
        [projectId],
      );
      return rows.map(toSettings);
    },
  };
}
