import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys are random 32-byte tokens shown once and stored only as a SHA-256 hash. A plain hash
 * (not a slow KDF) is right here: the token has 256 bits of entropy, so there is nothing to brute
 * force, and lookups by hash stay O(1) on the request path.
 */
export const API_KEY_PREFIX = 'hyk_';
export const ADMIN_KEY_PREFIX = 'hya_';

export function generateKey(prefix: string = API_KEY_PREFIX): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex hashes of equal length. */
export function hashesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ab.length === bb.length && ab.length > 0 && timingSafeEqual(ab, bb);
}

/** The part of a key safe to show in lists: prefix and first characters. */
export function keyHint(key: string): string {
  return `${key.slice(0, 10)}…`;
}
