/**
 * The trigger subscriptions part of the storage port: one user's subscription, through one of
 * their credentials, to one trigger of an integration, with what the provider said about it.
 */
import type { CredentialId, ProjectId, TriggerSubscriptionId } from '../domain/ids.ts';
import type { Page } from './page.ts';

export type TriggerSubscriptionStatus = 'ACTIVE' | 'ERRORED' | 'PENDING';

export interface TriggerSubscriptionRecord {
  id: TriggerSubscriptionId;
  projectId: ProjectId;
  integration: string;
  triggerType: string;
  credentialId: CredentialId;
  userId: string;
  /** JSON of the trigger's parameters as given. */
  parameters: Record<string, unknown>;
  status: TriggerSubscriptionStatus;
  error: string | null;
  /** The provider's id for its webhook, from the subscribe response. */
  providerSubscriptionId: string | null;
  /** Sealed secret the provider returned (or null); events are verified with it. */
  secretSealed: string | null;
  /** Values the subscribe response saved (`response.save`), for later requests. */
  saved: Record<string, unknown>;
  expiresAtMs: number | null;
  /** JSON `{ url, headers }` where events go instead of the project's endpoints, or null. */
  webhookOverride: { url: string; headers?: Record<string, string> } | null;
  createdAtMs: number;
  updatedAtMs: number;
  lastReceivedEventAtMs: number | null;
}

/** What a subscribe, renew or failure writes. */
export interface TriggerSubscriptionStateUpdate {
  status: TriggerSubscriptionStatus;
  error: string | null;
  providerSubscriptionId: string | null;
  secretSealed: string | null;
  saved: Record<string, unknown>;
  expiresAtMs: number | null;
  nowMs: number;
}

export interface TriggerSubscriptionFilter {
  integration?: string;
  triggerType?: string;
  status?: TriggerSubscriptionStatus;
  userId?: string;
  credentialId?: CredentialId;
}

export interface TriggerSubscriptionStore {
  insertTriggerSubscription(record: TriggerSubscriptionRecord): Promise<void>;
  getTriggerSubscription(
    projectId: ProjectId,
    id: TriggerSubscriptionId,
  ): Promise<TriggerSubscriptionRecord | null>;
  /** By id alone, for work that runs outside a request (renewal, incoming events). */
  getTriggerSubscriptionById(id: TriggerSubscriptionId): Promise<TriggerSubscriptionRecord | null>;
  /** In id (creation) order, narrowed by the filter's members that are given. */
  listTriggerSubscriptions(
    projectId: ProjectId,
    options: TriggerSubscriptionFilter & { limit: number; after?: string },
  ): Promise<Page<TriggerSubscriptionRecord>>;
  /** Every subscription of a credential, in any project (a credential belongs to one). */
  listTriggerSubscriptionsOfCredential(credentialId: CredentialId): Promise<TriggerSubscriptionRecord[]>;
  /** Subscriptions not ERRORED whose expiry is at or before `untilMs`, soonest first. */
  listTriggerSubscriptionsExpiring(untilMs: number, limit: number): Promise<TriggerSubscriptionRecord[]>;
  /** Null when it does not exist. */
  updateTriggerSubscriptionState(
    id: TriggerSubscriptionId,
    update: TriggerSubscriptionStateUpdate,
  ): Promise<TriggerSubscriptionRecord | null>;
  /** Moves `lastReceivedEventAtMs` forward (never back). */
  touchTriggerSubscriptionEvent(id: TriggerSubscriptionId, atMs: number): Promise<void>;
  /** False when it does not exist in that project. */
  deleteTriggerSubscription(projectId: ProjectId, id: TriggerSubscriptionId): Promise<boolean>;
}
