import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two byte strings in time that depends only on their lengths. Signature lengths are public
 * (they follow from the algorithm), so a length mismatch may return at once; the equal-length
 * comparison never exits early.
 */
export function constantTimeEqual(a: Buffer | string, b: Buffer | string): boolean {
  const left = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const right = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  if (left.length !== right.length) {
    // Still do the work of a comparison so the two paths cost about the same.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/**
 * Compares a presented credential with a stored secret without revealing the secret's length:
 * both sides are hashed to 32 bytes first. Use this where the secret itself is on the wire
 * (API keys, tokens, Basic credentials), not for HMAC outputs.
 */
export function constantTimeEqualSecret(presented: Buffer | string, secret: Buffer | string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}
