import type { SignatureEncoding } from './verification-scheme.ts';

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a received signature strictly. Buffer.from(…, 'base64') silently skips characters it does
 * not know, so two different header values could decode to the same bytes; rejecting anything
 * non-canonical keeps "what was sent" and "what was checked" the same thing.
 */
export function decodeSignature(text: string, encoding: SignatureEncoding): Buffer | undefined {
  if (encoding === 'hex') return HEX.test(text) ? Buffer.from(text, 'hex') : undefined;
  return BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}
