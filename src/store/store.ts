/**
 * The storage port. Domain-shaped and narrow: callers say what they want (`insertProject`,
 * `findApiKeyByHash`), never how. Two adapters implement it (SQLite and PostgreSQL, through
 * src/store/sql) and pass one contract suite (test/contract).
 *
 * Terminology follows DESIGN.md. Times are epoch milliseconds (`…AtMs`).
 */
import type { ApiKeyId, ProjectId } from '../domain/ids.ts';
import type { DeliveryStore } from './delivery-store.ts';
import type { InboundStore } from './inbound-store.ts';
import type { IntegrationStore } from './integration-store.ts';

export interface ProjectRecord {
  id: ProjectId;
  name: string;
  signingPublicKey: string;
  signingPrivateKeySealed: string;
  createdAtMs: number;
}

export interface ApiKeyRecord {
  id: ApiKeyId;
  projectId: ProjectId;
  name: string;
  keyHash: string;
  keyHint: string;
  createdAtMs: number;
  revokedAtMs: number | null;
}

export interface Page<T> {
  items: T[];
  /** Pass as `after` to read the next page; null when this is the last page. */
  nextCursor: string | null;
}

export interface ProjectStore {
  insertProject(project: ProjectRecord): Promise<void>;
  getProject(id: ProjectId): Promise<ProjectRecord | null>;
  /** Projects by id (creation order). `projectIds` narrows the list to those ids. */
  listProjects(options: {
    limit: number;
    after?: string;
    projectIds?: readonly ProjectId[];
  }): Promise<Page<ProjectRecord>>;

  insertApiKey(key: ApiKeyRecord): Promise<void>;
  /** The key with this hash, unless revoked. */
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  listApiKeys(projectId: ProjectId): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; false when it does not exist in that project (or was revoked already). */
  revokeApiKey(projectId: ProjectId, id: ApiKeyId, nowMs: number): Promise<boolean>;

  getSetting(key: string): Promise<string | null>;
  /** Stores the value unless the key exists; returns whether this call stored it. */
  putSettingIfAbsent(key: string, value: string, nowMs: number): Promise<boolean>;
  /** Stores the value, replacing any earlier one. */
  putSetting(key: string, value: string, nowMs: number): Promise<void>;
}

export interface Store extends ProjectStore, InboundStore, DeliveryStore, IntegrationStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending migrations; returns the versions applied. */
  migrate(): Promise<number[]>;
  /** Throws when the database cannot answer (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Cross-process wake-up; absent where one process owns the store (SQLite). */
  listen?(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  notify?(channel: string, payload: string): Promise<void>;
}
