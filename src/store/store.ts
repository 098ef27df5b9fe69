/**
 * The storage port. Domain-shaped and narrow: callers say what they want (`insertProject`,
 * `findApiKeyByHash`), never how. Two adapters implement it (SQLite and PostgreSQL, through
 * src/store/sql) and pass one contract suite (test/contract).
 *
 * Terminology follows DESIGN.md. Times are epoch milliseconds (`…AtMs`).
 */
import type { ApiKeyId, ProjectId } from '../domain/ids.ts';
import type { ConsoleStore } from './console-store.ts';
import type { CredentialStore } from './credential-store.ts';
import type { DeliveryStore } from './delivery-store.ts';
import type { InboundStore } from './inbound-store.ts';
import type { IntegrationStore } from './integration-store.ts';
import type { Page } from './page.ts';
import type { TriggerSubscriptionStore } from './trigger-subscription-store.ts';
import type { UserStore } from './user-store.ts';
import type { WorkflowStore } from './workflow-store.ts';

export type { Page } from './page.ts';

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

/** What one store can do that another cannot; callers ask these, never which database it is. */
export interface StoreCapabilities {
  /**
   * Several processes may share the store, so an endpoint's own limits (maxConcurrency,
   * rateLimitPerSecond) hold across them only for the holder of its endpoint lease
   * (holdEndpointLeases). False where one process owns the store: its worker's lanes suffice.
   */
  readonly endpointLeases: boolean;
  /**
   * The most inbound events one commit of insertInboundEvents should hold (PostgreSQL: the rows of
   * one prepared statement, so a batch is one round trip); null where the store sets no bound.
   */
  readonly inboundEventsPerCommit: number | null;
}

export interface Store
  extends ProjectStore,
    InboundStore,
    DeliveryStore,
    IntegrationStore,
    UserStore,
    ConsoleStore,
    CredentialStore,
    TriggerSubscriptionStore,
    WorkflowStore {
  /** Which database: for logs and health answers only (behaviour asks `capabilities`). */
  readonly kind: 'sqlite' | 'postgres';
  readonly capabilities: StoreCapabilities;
  /** Applies pending migrations; returns the versions applied. */
  migrate(): Promise<number[]>;
  /** Throws when the database cannot answer (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Cross-process wake-up; absent where one process owns the store (SQLite). */
  listen?(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  notify?(channel: string, payload: string): Promise<void>;
}
