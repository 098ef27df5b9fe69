/**
 * The credentials part of the storage port: one user's connection to one integration, the
 * projects' connect settings, and the one-time states of OAuth connects in flight.
 */
import type { CredentialId, ProjectId } from '../domain/ids.ts';
import type { Page } from './page.ts';

export type CredentialStatus = 'active' | 'needs_reauth';

export interface CredentialRecord {
  id: CredentialId;
  projectId: ProjectId;
  userId: string;
  /** The integration's key (shipped or the project's own). */
  integration: string;
  providerAccountId: string | null;
  authType: 'oauth2' | 'apiKey' | 'basic' | 'none';
  /** Sealed JSON of the tokens or key (src/integrations/credential-auth.ts CredentialSecrets plus refreshToken). */
  secretsSealed: string;
  /** When the access token expires; null when the provider gave no expiry. */
  accessTokenExpiresAtMs: number | null;
  /** Sealed JSON of the settings the user supplied when connecting. */
  settingsSealed: string;
  status: CredentialStatus;
  statusReason: string | null;
  /** Moves on every change of tokens or status: writers compare and set on it. */
  version: number;
  /** Who is refreshing the tokens, and until when that claim holds. */
  refreshLeaseOwner: string | null;
  refreshLeaseUntilMs: number | null;
  lastRefreshedAtMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
}

/** What a refresh writes: the new tokens, sealed, and their expiry. */
export interface CredentialTokenUpdate {
  secretsSealed: string;
  accessTokenExpiresAtMs: number | null;
  nowMs: number;
}

export interface OAuthStateRecord {
  /** SHA-256 (hex) of the state sent to the provider; the state itself is never stored. */
  stateHash: string;
  projectId: ProjectId;
  userId: string;
  integration: string;
  /** Where the browser goes back to with the outcome. */
  redirectUrl: string;
  /** Sealed PKCE code verifier, when the definition declares PKCE. */
  codeVerifierSealed: string | null;
  /** Sealed JSON of the credential settings given when the connect started. */
  settingsSealed: string;
  expiresAtMs: number;
  createdAtMs: number;
}

export interface ConnectSettingsRecord {
  projectId: ProjectId;
  /** Origins (`https://app.example`) the connect flow may send a browser back to. */
  allowedRedirectOrigins: string[];
  updatedAtMs: number;
}

export interface CredentialStore {
  /**
   * False when the project already has a credential of this user and integration for this
   * provider account (a credential with no provider account id never conflicts).
   */
  insertCredential(record: CredentialRecord): Promise<boolean>;
  getCredential(projectId: ProjectId, id: CredentialId): Promise<CredentialRecord | null>;
  /** By id alone, for work that runs outside a request (refresh, subscriptions). */
  getCredentialById(id: CredentialId): Promise<CredentialRecord | null>;
  findCredentialByAccount(
    projectId: ProjectId,
    userId: string,
    integration: string,
    providerAccountId: string,
  ): Promise<CredentialRecord | null>;
  /** In id (creation) order, narrowed by user and integration when given. */
  listCredentials(
    projectId: ProjectId,
    options: { userId?: string; integration?: string; limit: number; after?: string },
  ): Promise<Page<CredentialRecord>>;
  /** False when it does not exist in that project. */
  deleteCredential(projectId: ProjectId, id: CredentialId): Promise<boolean>;

  /**
   * Replaces the tokens, settings and provider account id, and makes it active again (a user
   * reconnecting the same account). Version moves; lease cleared.
   */
  reconnectCredential(
    id: CredentialId,
    update: CredentialTokenUpdate & { settingsSealed: string; providerAccountId: string | null },
  ): Promise<CredentialRecord | null>;
  /**
   * Claims the right to refresh: succeeds only while the version is `version` and no other
   * owner's lease is running. Returns whether this caller holds the lease now.
   */
  claimCredentialRefresh(
    id: CredentialId,
    version: number,
    owner: string,
    nowMs: number,
    leaseUntilMs: number,
  ): Promise<boolean>;
  /**
   * Stores refreshed tokens (the rotated refresh token with its access token, in one write) if
   * `owner` still holds the lease; version moves and the lease is released. Null when it lost
   * the lease.
   */
  completeCredentialRefresh(
    id: CredentialId,
    owner: string,
    update: CredentialTokenUpdate,
  ): Promise<CredentialRecord | null>;
  /** Sets the status (and reason) if `owner` holds the lease, releasing it; version moves. */
  failCredentialRefresh(
    id: CredentialId,
    owner: string,
    status: 'active' | 'needs_reauth',
    reason: string | null,
    nowMs: number,
  ): Promise<CredentialRecord | null>;

  insertOAuthState(record: OAuthStateRecord): Promise<void>;
  /** The project's states that have not expired (connects in flight). */
  countOAuthStates(projectId: ProjectId, nowMs: number): Promise<number>;
  /**
   * Returns the state and deletes it, once: a second take of the same state, or a take after it
   * expired, returns null. Expired states are removed along the way.
   */
  takeOAuthState(stateHash: string, nowMs: number): Promise<OAuthStateRecord | null>;

  getConnectSettings(projectId: ProjectId): Promise<ConnectSettingsRecord | null>;
  putConnectSettings(record: ConnectSettingsRecord): Promise<void>;
}
