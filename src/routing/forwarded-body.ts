import { MAX_MESSAGE_BODY_BYTES } from '../delivery/publisher.ts';
import type { InboundEventRecord } from '../store/inbound-store.ts';

/**
 * How a forwarded message carries the inbound body. A body that can never fit a message, or that
 * would overflow the stack of whoever encodes it, must still become a message: otherwise its
 * routing job fails on every attempt. So:
 * - JSON that parses and nests at most MAX_FORWARDED_JSON_DEPTH deep: `body`, the parsed value;
 * - other UTF-8 text, and JSON nested deeper: `bodyText`, the text as it came;
 * - anything else: `bodyBase64`;
 * - when that form would not fit in a message (MAX_MESSAGE_BODY_BYTES with the envelope): no body
 *   but `bodyOmitted: { reason: 'too_large', bytes }`; the receiver reads it from the event API.
 */
export const MAX_FORWARDED_JSON_DEPTH = 128;
/** Room left in a message for the envelope around the body (ids, types, dates, tenant). */
const ENVELOPE_ALLOWANCE_BYTES = 16 * 1024;
export const MAX_FORWARDED_BODY_BYTES = MAX_MESSAGE_BODY_BYTES - ENVELOPE_ALLOWANCE_BYTES;

export type ForwardedBody =
  | { body: unknown }
  | { bodyText: string }
  | { bodyBase64: string }
  | { bodyOmitted: { reason: 'too_large'; bytes: number } };

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const [QUOTE, BACKSLASH, OPEN_BRACE, OPEN_BRACKET, CLOSE_BRACE, CLOSE_BRACKET] = [
  0x22, 0x5c, 0x7b, 0x5b, 0x7d, 0x5d,
];

/** Whether JSON text nests objects and arrays deeper than maxDepth (strings are skipped). */
export function jsonNestsDeeperThan(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

export function forwardedBody(e: Pick<InboundEventRecord, 'body' | 'jsonValid'>): ForwardedBody {
  const omitted = { bodyOmitted: { reason: 'too_large' as const, bytes: e.body.length } };
  // Parsed JSON is no longer than its text once written again; text may grow when escaped.
  if (e.body.length > MAX_FORWARDED_BODY_BYTES) return omitted;
  if (e.jsonValid && !jsonNestsDeeperThan(e.body, MAX_FORWARDED_JSON_DEPTH)) {
    try {
      return { body: JSON.parse(e.body.toString('utf8')) };
    } catch {}
  }
  let text: string | undefined;
  try {
    text = UTF8.decode(e.body);
  } catch {}
  if (text !== undefined) {
    return JSON.stringify(text).length > MAX_FORWARDED_BODY_BYTES ? omitted : { bodyText: text };
  }
  return Math.ceil(e.body.length / 3) * 4 > MAX_FORWARDED_BODY_BYTES
    ? omitted
    : { bodyBase64: e.body.toString('base64') };
}
