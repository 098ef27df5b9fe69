import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { HookyardError } from '../domain/errors.ts';
import { parseEndpointSecret } from './endpoint-secret.ts';

/**
 * Signs outbound deliveries.
 *
 * Standard Webhooks (https://www.standardwebhooks.com): `webhook-signature` carries one
 * `v1,<base64 HMAC-SHA256(key, "<msgId>.<timestampSeconds>.<raw body>")>` per live secret,
 * space-separated, so during a rotation a receiver holding either the old or the new secret
 * verifies. The HMAC key is the base64-decoded part of `whsec_…`, as the spec says.
 *
 * Optional plain header (for receivers written against "hex HMAC of the body" APIs, e.g.
 * `X-Paradym-HMAC-SHA-256`): lowercase hex HMAC-SHA256 of the raw body alone, keyed with the
 * UTF-8 bytes of the CURRENT secret's full `whsec_…` string exactly as the dashboard shows it.
 * We chose the displayed string over the decoded key because that is what such receivers do by
 * habit (`createHmac('sha256', secret)`), and a key they have to base64-decode first is the most
 * common way those integrations break. It signs no id or timestamp, so it does not protect
 * against replays; receivers that care use the Standard Webhooks headers.
 *
 * Hot path (~18k signs/s): keys are decoded once into `SigningKey`s (KeyObjects) when an
 * endpoint's secrets are loaded, and the body is fed to the HMAC as is, never concatenated.
 */

export interface SigningKey {
  /** HMAC key for Standard Webhooks: the decoded bytes after `whsec_`. */
  readonly standardKey: KeyObject;
  /** HMAC key for the plain hex header: the UTF-8 bytes of the whole `whsec_…` string. */
  readonly plainKey: KeyObject;
}

/** Decodes a `whsec_…` secret once; throws `validation_failed` when it is malformed. */
export function createSigningKey(secret: string): SigningKey {
  return Object.freeze({
    standardKey: createSecretKey(parseEndpointSecret(secret)),
    plainKey: createSecretKey(Buffer.from(secret, 'utf8')),
  });
}

export type SignableBody = string | Uint8Array;

export interface StandardWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The `v1,<base64>` signature of one message under one key. */
export function signatureFor(
  key: SigningKey,
  msgId: string,
  timestampSeconds: number,
  body: SignableBody,
): string {
  const hmac = createHmac('sha256', key.standardKey);
  hmac.update(`${msgId}.${timestampSeconds}.`);
  hmac.update(body);
  return `v1,${hmac.digest('base64')}`;
}

/**
 * Standard Webhooks headers for one delivery attempt.
 * @param keys the endpoint's live keys, current first; at least one
 * @param timestampSeconds whole Unix seconds of this attempt (each retry is re-signed)
 */
export function signStandardWebhook(input: {
  msgId: string;
  timestampSeconds: number;
  body: SignableBody;
  keys: readonly SigningKey[];
}): StandardWebhookHeaders {
  const { msgId, timestampSeconds, body, keys } = input;
  if (keys.length === 0) throw new RangeError('signStandardWebhook needs at least one live key.');
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError(`timestampSeconds is ${timestampSeconds}; expected whole Unix seconds.`);
  }
  // The id travels in a header, which cannot safely hold whitespace or newlines.
  if (msgId.length === 0 || /\s/.test(msgId)) {
    throw new RangeError('msgId must be non-empty without spaces or newlines.');
  }
  let signature = '';
  for (const key of keys) {
    signature += (signature === '' ? '' : ' ') + signatureFor(key, msgId, timestampSeconds, body);
  }
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signature,
  };
}

/** Lowercase hex HMAC-SHA256 of the raw body under the current key's `whsec_…` string bytes. */
export function signPlainHmacHex(key: SigningKey, body: SignableBody): string {
  return createHmac('sha256', key.plainKey).update(body).digest('hex');
}

const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const RESERVED_HEADERS = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'host',
  'user-agent',
]);

/** Validates the endpoint's plain-HMAC header name; throws `validation_failed` naming the rule. */
export function validateSignatureHeaderName(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 128 || !HTTP_TOKEN.test(name)) {
    throw new HookyardError(
      'validation_failed',
      "signature header name must be 1 to 128 HTTP token characters (letters, digits and !#$%&'*+-.^_`|~).",
    );
  }
  if (RESERVED_HEADERS.has(name.toLowerCase())) {
    throw new HookyardError(
      'validation_failed',
      `signature header name "${name}" is set by Hookyard itself; choose another, e.g. "X-Signature-SHA-256".`,
    );
  }
  return name;
}

/**
 * Every signature header for one attempt: the Standard Webhooks three, plus the plain hex header
 * when the endpoint names one (keyed with `keys[0]`, the current secret).
 */
export function signDelivery(input: {
  msgId: string;
  timestampSeconds: number;
  body: SignableBody;
  keys: readonly SigningKey[];
  plainHmacHeader?: string;
}): Record<string, string> {
  const headers: Record<string, string> = { ...signStandardWebhook(input) };
  if (input.plainHmacHeader !== undefined) {
    const current = input.keys[0];
    if (current === undefined) throw new RangeError('signDelivery needs at least one live key.');
    headers[input.plainHmacHeader.toLowerCase()] = signPlainHmacHex(current, input.body);
  }
  return headers;
}
