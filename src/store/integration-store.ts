/** The integrations part of the storage port: project-defined definitions and per-project settings. */
import type { ProjectId, SourceId } from '../domain/ids.ts';

export interface IntegrationDefinitionRecord {
  projectId: ProjectId;
  key: string;
  /** Validated by src/integrations before it is stored; opaque JSON to the store. */
  definition: Record<string, unknown>;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface IntegrationSettingsRecord {
  projectId: ProjectId;
  /** A shipped or project-defined integration's key. */
  key: string;
  /** Sealed JSON of { clientId?, clientSecret?, settings }. */
  settingsSealed: string;
  /** The source receiving this integration's app-level events in this project, once it has one. */
  appSourceId: SourceId | null;
  updatedAtMs: number;
}

export interface IntegrationStore {
  /** False when the project already has a definition with this key. */
  insertIntegrationDefinition(record: IntegrationDefinitionRecord): Promise<boolean>;
  getIntegrationDefinition(projectId: ProjectId, key: string): Promise<IntegrationDefinitionRecord | null>;
  /** In key order, at most `limit`. */
  listIntegrationDefinitions(projectId: ProjectId, limit: number): Promise<IntegrationDefinitionRecord[]>;
  /** Replaces the definition; false when it does not exist in that project. */
  updateIntegrationDefinition(record: IntegrationDefinitionRecord): Promise<boolean>;
  /** Deletes the definition and the project's settings for it, together; false when it did not exist. */
  deleteIntegrationDefinition(projectId: ProjectId, key: string): Promise<boolean>;

  /** Creates or replaces the project's settings for one integration. */
  putIntegrationSettings(record: IntegrationSettingsRecord): Promise<void>;
  getIntegrationSettings(projectId: ProjectId, key: string): Promise<IntegrationSettingsRecord | null>;
  /** In key order. */
  listIntegrationSettings(projectId: ProjectId): Promise<IntegrationSettingsRecord[]>;
}
