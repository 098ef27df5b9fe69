import { headerValues, type RawRequest } from './raw-request.ts';
import type { SignatureFormat } from './verification-scheme.ts';

/** Beyond this many signatures in one request we refuse rather than spend CPU on each. */
export const MAX_SIGNATURES_PER_REQUEST = 16;

export interface ParsedSignatureHeader {
  /** The candidate signatures, still encoded, prefix removed. */
  signatures: string[];
  /** Values of other keys in a `key=value` header (Stripe `t`), first occurrence wins. */
  pairs: ReadonlyMap<string, string>;
}

/** The pairs of a format without `key=value` entries: there are none to keep. */
const NO_PAIRS: ReadonlyMap<string, string> = new Map();

/**
 * Splits a signature header into candidate signatures. Entries that do not carry the expected key
 * or prefix are skipped, not errors: Standard Webhooks and Stripe say to ignore unknown versions
 * (`v2,`, `v0=`), which is how providers add schemes without breaking receivers.
 * Returns undefined when the header is absent.
 */
export function parseSignatureHeader(
  req: RawRequest,
  format: SignatureFormat,
): ParsedSignatureHeader | undefined {
  const values = headerValues(req, format.header);
  if (values.length === 0) return undefined;
  const signatures: string[] = [];
  const pairs = format.pairs ? new Map<string, string>() : NO_PAIRS;
  for (const value of values) {
    const entries = format.separator === undefined ? [value] : value.split(format.separator);
    for (const rawEntry of entries) {
      const entry = rawEntry.trim();
      if (entry === '') continue;
      let candidate = entry;
      if (format.pairs) {
        const at = entry.indexOf(format.pairs.keySeparator);
        if (at === -1) continue;
        const key = entry.slice(0, at);
        const pairValue = entry.slice(at + format.pairs.keySeparator.length);
        if (key !== format.pairs.key) {
          if (!pairs.has(key)) (pairs as Map<string, string>).set(key, pairValue);
          continue;
        }
        candidate = pairValue;
      }
      if (format.prefix !== undefined) {
        if (!candidate.startsWith(format.prefix)) continue;
        candidate = candidate.slice(format.prefix.length);
      }
      signatures.push(candidate);
    }
  }
  return { signatures, pairs };
}

/** Describes what a signature entry looks like, for "no … signature in header" reasons. */
export function describeSignatureEntry(format: SignatureFormat): string {
  const key = format.pairs ? `${format.pairs.key}${format.pairs.keySeparator}` : '';
  return `${key}${format.prefix ?? ''}`;
}
