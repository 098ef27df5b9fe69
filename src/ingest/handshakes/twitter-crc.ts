import { createHmac } from 'node:crypto';
import { queryParams } from '../verification/raw-request.ts';
import { isMethod } from './handshake-request.ts';
import { jsonResponse, refusal } from './handshake-responses.ts';
import type { HandshakeAnswer } from './handshake-types.ts';

// Real crc_tokens are opaque token text. Refusing '{', '"' and the like keeps this from signing a
// JSON body on request: response_token is HMAC(consumer secret, crc_token), the same keyed function
// that signs events.
const CRC_TOKEN = /^[A-Za-z0-9._~+/=-]{1,512}$/;

/**
 * X (Twitter) Account Activity CRC: `GET ?crc_token=…` answered 200 JSON
 * `{"response_token":"sha256=" + base64 HMAC-SHA256(consumer secret, crc_token)}`, keyed with the
 * first live secret.
 */
export const answerTwitterCrc: HandshakeAnswer = (req, context) => {
  if (!isMethod(req, 'GET')) return null;
  const token = queryParams(req).get('crc_token');
  if (token === null) return null;
  if (!CRC_TOKEN.test(token))
    return { response: refusal(400, 'crc_token is not a token'), verifyFirst: false };
  const [secret] = context.liveSecrets;
  if (secret === undefined)
    return { response: refusal(403, 'no secret configured for this source'), verifyFirst: false };
  const digest = createHmac('sha256', secret).update(token, 'utf8').digest('base64');
  return { response: jsonResponse({ response_token: `sha256=${digest}` }), verifyFirst: false };
};
