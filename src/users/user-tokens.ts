import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { isId, type ProjectId } from '../domain/ids.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { Store } from '../store/store.ts';

/**
 * User tokens: JWTs that authenticate one end user of a project on the SDK routes. `sub` is the
 * user's id and `exp` is required. A token is signed either by the project's backend with a
 * public key registered on the project (RS256, ES256 or EdDSA), or by Hookyard with the project's
 * own Ed25519 signing key (POST …/user-tokens; its public half is the project's
 * `signingPublicKey`). The algorithm comes from the key, never from the token alone, so a token
 * cannot pick `none` or an algorithm its key was not registered for.
 */
export interface UserTokens {
  /** The user the token names; throws user_token_invalid or user_token_expired (401). */
  verify(projectId: string, token: string): Promise<UserTokenSubject>;
  /** A token for the user signed with the project's own key, valid for `expiresInSeconds`. */
  mint(projectId: ProjectId, userId: string, expiresInSeconds: number): Promise<MintedUserToken>;
}

export interface UserTokenSubject {
  projectId: ProjectId;
  userId: string;
  expiresAtMs: number;
}

export interface MintedUserToken {
  token: string;
  expiresAtMs: number;
}

/** Clock skew allowed between the project's backend and Hookyard on `exp`, `nbf` and `iat`. */
export const USER_TOKEN_LEEWAY_SECONDS = 30;
/** Longer tokens are refused before any parsing. */
export const MAX_USER_TOKEN_CHARS = 8192;
export const MAX_USER_ID_CHARS = 256;
export const MAX_MINTED_TOKEN_SECONDS = 86_400;
export const DEFAULT_MINTED_TOKEN_SECONDS = 3600;
/** The issuer Hookyard writes into the tokens it mints. */
export const MINTED_TOKEN_ISSUER = 'hookyard';

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA', 'Ed25519'] as const;
type TokenAlgorithm = (typeof ALGORITHMS)[number];
/** The registered algorithm a token's `alg` may be used with (Ed25519 is EdDSA's explicit name). */
const KEY_ALGORITHM: Record<TokenAlgorithm, string> = {
  RS256: 'RS256',
  ES256: 'ES256',
  EdDSA: 'EdDSA',
  Ed25519: 'EdDSA',
};

interface VerificationKey {
  id: string;
  algorithm: string;
  key: KeyObject;
}

export function userTokenInvalid(detail: string): HookyardError {
  return new HookyardError('user_token_invalid', `user token ${detail}`);
}

export function createUserTokens(deps: { store: Store; secrets: SecretBox; clock: Clock }): UserTokens {
  const { store, secrets, clock } = deps;

  /** The project's own key first (its id is the project id), then the registered ones. */
  async function keysOf(projectId: ProjectId): Promise<VerificationKey[]> {
    const project = await store.getProject(projectId);
    if (!project) return [];
    const keys: VerificationKey[] = [
      {
        id: projectId,
        algorithm: 'EdDSA',
        key: createPublicKey({
          key: Buffer.from(project.signingPublicKey, 'base64'),
          format: 'der',
          type: 'spki',
        }),
      },
    ];
    for (const k of await store.listUserTokenKeys(projectId)) {
      keys.push({
        id: k.id,
        algorithm: k.algorithm,
        key: createPublicKey({ key: k.publicJwk as JsonWebKey, format: 'jwk' }),
      });
    }
    return keys;
  }

  return {
    async verify(projectId, token) {
      if (typeof token !== 'string' || token.length === 0) throw userTokenInvalid('is missing.');
      if (token.length > MAX_USER_TOKEN_CHARS) {
        throw userTokenInvalid(`is longer than ${MAX_USER_TOKEN_CHARS} characters.`);
      }
      if (token.split('.').length !== 3) {
        throw userTokenInvalid('is not a signed JWT (three base64url parts: header.payload.signature).');
      }
      let alg: unknown;
      let kid: unknown;
      try {
        ({ alg, kid } = decodeProtectedHeader(token));
      } catch {
        throw userTokenInvalid('has a header that is not base64url JSON.');
      }
      if (!ALGORITHMS.includes(alg as TokenAlgorithm)) {
        throw userTokenInvalid(
          `is signed with alg ${JSON.stringify(alg ?? null)}; allowed: RS256, ES256, EdDSA (or Ed25519).`,
        );
      }
      const algorithm = alg as TokenAlgorithm;
      // A project that does not exist answers as one whose keys do not match: nothing to probe.
      const candidates = isId('project', projectId)
        ? (await keysOf(projectId)).filter(
            (k) => k.algorithm === KEY_ALGORITHM[algorithm] && (kid === undefined || k.id === kid),
          )
        : [];
      for (const candidate of candidates) {
        let payload: JWTPayload;
        try {
          ({ payload } = await jwtVerify(token, candidate.key, {
            algorithms: [algorithm],
            clockTolerance: USER_TOKEN_LEEWAY_SECONDS,
            currentDate: new Date(clock.nowMs()),
            requiredClaims: ['sub', 'exp'],
          }));
        } catch (err) {
          if (err instanceof joseErrors.JWSSignatureVerificationFailed) continue;
          throw describeFailure(err);
        }
        return subjectOf(projectId as ProjectId, payload);
      }
      throw userTokenInvalid(
        `does not verify with any ${KEY_ALGORITHM[algorithm]} key of project ${projectId}${typeof kid === 'string' ? ` named by kid ${JSON.stringify(kid)}` : ''}.`,
      );
    },

    async mint(projectId, userId, expiresInSeconds) {
      checkUserId(userId);
      if (
        !Number.isInteger(expiresInSeconds) ||
        expiresInSeconds < 1 ||
        expiresInSeconds > MAX_MINTED_TOKEN_SECONDS
      ) {
        throw new HookyardError(
          'validation_failed',
          `expiresInSeconds must be an integer from 1 to ${MAX_MINTED_TOKEN_SECONDS}.`,
        );
      }
      const project = await store.getProject(projectId);
      if (!project) throw notFound(`project ${projectId}`);
      const privateKey = createPrivateKey({
        key: Buffer.from(secrets.open(project.signingPrivateKeySealed), 'base64'),
        format: 'der',
        type: 'pkcs8',
      });
      const nowSeconds = Math.floor(clock.nowMs() / 1000);
      const expiresAtSeconds = nowSeconds + expiresInSeconds;
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: projectId })
        .setSubject(userId)
        .setAudience(projectId)
        .setIssuer(MINTED_TOKEN_ISSUER)
        .setIssuedAt(nowSeconds)
        .setExpirationTime(expiresAtSeconds)
        .sign(privateKey);
      return { token, expiresAtMs: expiresAtSeconds * 1000 };
    },
  };
}

function checkUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID_CHARS) {
    throw new HookyardError(
      'validation_failed',
      `userId must be a string of 1 to ${MAX_USER_ID_CHARS} characters.`,
    );
  }
}

function subjectOf(projectId: ProjectId, payload: JWTPayload): UserTokenSubject {
  const { sub, aud, exp } = payload;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_USER_ID_CHARS) {
    throw userTokenInvalid(
      `claim "sub" must be the user's id, a string of 1 to ${MAX_USER_ID_CHARS} characters.`,
    );
  }
  // One key may be registered on several projects; a token that names its project is good there only.
  if (aud !== undefined && !(Array.isArray(aud) ? aud.includes(projectId) : aud === projectId)) {
    throw userTokenInvalid(`claim "aud" does not name project ${projectId}.`);
  }
  return { projectId, userId: sub, expiresAtMs: (exp as number) * 1000 };
}

function describeFailure(err: unknown): HookyardError {
  if (err instanceof joseErrors.JWTExpired) {
    return new HookyardError(
      'user_token_expired',
      'user token has expired (claim "exp" is in the past); get a new one.',
    );
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = err.claim;
    if (err.reason === 'missing') return userTokenInvalid(`lacks the required claim "${claim}".`);
    return userTokenInvalid(`claim "${claim}" is not valid: ${err.message}.`);
  }
  if (err instanceof joseErrors.JOSEError) return userTokenInvalid(`is not valid: ${err.message}.`);
  return userTokenInvalid('could not be read.');
}
