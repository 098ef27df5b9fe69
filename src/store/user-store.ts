/** The users part of the storage port: the public keys a project signs its user tokens with. */
import type { ProjectId, UserTokenKeyId } from '../domain/ids.ts';

export const USER_TOKEN_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type UserTokenAlgorithm = (typeof USER_TOKEN_ALGORITHMS)[number];

export interface UserTokenKeyRecord {
  id: UserTokenKeyId;
  projectId: ProjectId;
  name: string;
  algorithm: UserTokenAlgorithm;
  /** The public key as a JWK (no private members). */
  publicJwk: Record<string, unknown>;
  createdAtMs: number;
}

export interface UserStore {
  insertUserTokenKey(record: UserTokenKeyRecord): Promise<void>;
  /** The project's keys in creation order. */
  listUserTokenKeys(projectId: ProjectId): Promise<UserTokenKeyRecord[]>;
  /** False when the key does not exist in that project. */
  deleteUserTokenKey(projectId: ProjectId, id: UserTokenKeyId): Promise<boolean>;
}
