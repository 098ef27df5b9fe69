import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { HookyardError } from '../domain/errors.ts';
import { USER_TOKEN_ALGORITHMS, type UserTokenAlgorithm } from '../store/user-store.ts';

/** PEM text or a JWK object, as registered; bounded so a parse never costs much. */
export const MAX_PUBLIC_KEY_CHARS = 16_384;
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;
// Members only a private JWK has (RSA's d, p, q…; EC's and OKP's d).
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function invalid(detail: string): HookyardError {
  return new HookyardError('validation_failed', `publicKey ${detail}`);
}

/**
 * Reads a public key registered for user tokens (an SPKI or PKCS#1 PEM, or a JWK) and the one
 * algorithm tokens signed with it may use: RS256 for RSA (2048 to 8192 bits), ES256 for EC P-256,
 * EdDSA for Ed25519. A private key is refused, so its secret half is never stored here.
 */
export function parseUserTokenPublicKey(
  input: unknown,
  algorithm?: string,
): { algorithm: UserTokenAlgorithm; publicJwk: Record<string, unknown> } {
  const key = readPublicKey(input);
  const detected = algorithmFor(key);
  if (algorithm !== undefined && algorithm !== detected) {
    throw new HookyardError(
      'validation_failed',
      `algorithm is ${algorithm} but publicKey is a key for ${detected} (RS256: RSA, ES256: EC P-256, EdDSA: Ed25519).`,
    );
  }
  const jwk = key.export({ format: 'jwk' }) as Record<string, unknown>;
  return { algorithm: detected, publicJwk: jwk };
}

function readPublicKey(input: unknown): KeyObject {
  if (typeof input === 'string') {
    if (input.length > MAX_PUBLIC_KEY_CHARS)
      throw invalid(`must be at most ${MAX_PUBLIC_KEY_CHARS} characters.`);
    if (/PRIVATE KEY/.test(input)) throw invalid('is a private key; register the public half only.');
    if (!/-----BEGIN (RSA )?PUBLIC KEY-----/.test(input)) {
      throw invalid('must be a PEM public key ("-----BEGIN PUBLIC KEY-----") or a JWK object.');
    }
    try {
      return createPublicKey({ key: input, format: 'pem' });
    } catch (err) {
      throw invalid(`is not a readable PEM public key (${(err as Error).message}).`);
    }
  }
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    if (JSON.stringify(input).length > MAX_PUBLIC_KEY_CHARS) {
      throw invalid(`must be at most ${MAX_PUBLIC_KEY_CHARS} characters of JSON.`);
    }
    const members = Object.keys(input);
    if (members.some((m) => PRIVATE_JWK_MEMBERS.includes(m))) {
      throw invalid('is a private or symmetric JWK; register the public half only (no "d" or "k").');
    }
    try {
      return createPublicKey({ key: input as JsonWebKey, format: 'jwk' });
    } catch (err) {
      throw invalid(`is not a readable public JWK (${(err as Error).message}).`);
    }
  }
  throw invalid('must be a PEM public key (string) or a JWK (object).');
}

function algorithmFor(key: KeyObject): UserTokenAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
        throw invalid(
          `is an RSA key of ${bits} bits; RS256 keys must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS}.`,
        );
      }
      return 'RS256';
    }
    case 'ec':
      if (details.namedCurve !== 'prime256v1') {
        throw invalid(`is an EC key on ${details.namedCurve}; ES256 needs P-256.`);
      }
      return 'ES256';
    case 'ed25519':
      return 'EdDSA';
    default:
      throw invalid(
        `is a ${key.asymmetricKeyType} key; allowed: ${USER_TOKEN_ALGORITHMS.join(', ')} (RSA, EC P-256, Ed25519).`,
      );
  }
}
