import { createHmac } from 'node:crypto';
import { headerValue } from '../verification/raw-request.ts';
import { isMethod, jsonObjectBody } from './handshake-request.ts';
import { jsonResponse, refusal } from './handshake-responses.ts';
import type { HandshakeAnswer } from './handshake-types.ts';

// Zoom's plainTokens are short base64url strings. Refusing anything else (notably ':') closes a
// signing oracle: encryptedToken is HMAC(secret, plainToken) and an event signature is
// HMAC(secret, "v0:{ts}:{body}"), so echoing HMAC over an arbitrary string would sign forged events.
const PLAIN_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * Zoom `endpoint.url_validation`: answer 200 JSON `{plainToken, encryptedToken}` with
 * encryptedToken = hex HMAC-SHA256(secret token, plainToken), keyed with the first live secret.
 * Real validation requests are signed (x-zm-signature); when they are, they must verify first.
 */
export const answerZoomUrlValidation: HandshakeAnswer = (req, context) => {
  if (!isMethod(req, 'POST')) return null;
  const body = jsonObjectBody(req);
  if (body?.event !== 'endpoint.url_validation') return null;
  const payload = body.payload;
  const plainToken =
    payload !== null && typeof payload === 'object'
      ? (payload as Record<string, unknown>).plainToken
      : undefined;
  if (typeof plainToken !== 'string' || !PLAIN_TOKEN.test(plainToken)) {
    return { response: refusal(400, 'payload.plainToken is missing or not a token'), verifyFirst: false };
  }
  const [secret] = context.liveSecrets;
  if (secret === undefined)
    return { response: refusal(403, 'no secret configured for this source'), verifyFirst: false };
  const encryptedToken = createHmac('sha256', secret).update(plainToken, 'utf8').digest('hex');
  return {
    response: jsonResponse({ plainToken, encryptedToken }),
    verifyFirst: headerValue(req, 'x-zm-signature') !== undefined,
  };
};
