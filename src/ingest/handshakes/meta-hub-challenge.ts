import { constantTimeEqualSecret } from '../verification/constant-time.ts';
import { queryParams } from '../verification/raw-request.ts';
import { isMethod } from './handshake-request.ts';
import { refusal, textResponse } from './handshake-responses.ts';
import type { HandshakeAnswer } from './handshake-types.ts';

/**
 * Meta (Facebook, Instagram, WhatsApp) verification: `GET ?hub.mode=subscribe&hub.challenge=…
 * &hub.verify_token=…`. Echo the challenge only when the mode is subscribe and the token equals the
 * configured Verify Token; otherwise refuse (403) without echoing.
 */
export const answerMetaHubChallenge: HandshakeAnswer = (req, context) => {
  if (!isMethod(req, 'GET')) return null;
  const query = queryParams(req);
  const mode = query.get('hub.mode');
  if (mode === null) return null;
  const challenge = query.get('hub.challenge');
  const token = query.get('hub.verify_token');
  const expected = context.settings.verifyToken;
  if (mode !== 'subscribe' || challenge === null)
    return { response: refusal(403, 'not a subscribe request'), verifyFirst: false };
  if (expected === undefined || expected === '') {
    return { response: refusal(403, 'no verify token configured for this source'), verifyFirst: false };
  }
  if (token === null || !constantTimeEqualSecret(token, expected)) {
    return { response: refusal(403, 'hub.verify_token does not match'), verifyFirst: false };
  }
  return { response: textResponse(challenge), verifyFirst: false };
};
