import { randomBytes } from 'node:crypto';
import { HookyardError } from '../domain/errors.ts';

/**
 * Endpoint signing secrets in the Standard Webhooks format: `whsec_` + base64 of the key bytes.
 * Generated secrets carry 32 random bytes (the HMAC-SHA256 block-size sweet spot); secrets a user
 * imports (e.g. when moving from Svix) may carry 24 to 64 bytes, the range the spec allows.
 * Error messages never echo the secret.
 */

export const ENDPOINT_SECRET_PREFIX = 'whsec_';
export const GENERATED_SECRET_BYTES = 32;
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function generateEndpointSecret(): string {
  return ENDPOINT_SECRET_PREFIX + randomBytes(GENERATED_SECRET_BYTES).toString('base64');
}

/**
 * The HMAC key bytes of a `whsec_…` secret. Throws `validation_failed` saying what is allowed.
 * Strict base64 (standard alphabet, canonical padding) so one secret has one spelling.
 */
export function parseEndpointSecret(secret: string): Buffer {
  if (typeof secret !== 'string' || !secret.startsWith(ENDPOINT_SECRET_PREFIX)) {
    throw new HookyardError(
      'validation_failed',
      `endpoint secret must start with "${ENDPOINT_SECRET_PREFIX}" followed by base64 of ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes.`,
    );
  }
  const encoded = secret.slice(ENDPOINT_SECRET_PREFIX.length);
  if (encoded.length === 0 || !BASE64.test(encoded)) {
    throw new HookyardError(
      'validation_failed',
      `endpoint secret after "${ENDPOINT_SECRET_PREFIX}" must be standard base64 (A-Z a-z 0-9 + /, "=" padding).`,
    );
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new HookyardError(
      'validation_failed',
      `endpoint secret decodes to ${key.length} bytes; expected ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES}.`,
    );
  }
  return key;
}

export function isEndpointSecret(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    parseEndpointSecret(value);
    return true;
  } catch {
    return false;
  }
}
