import { constantTimeEqualSecret } from '../verification/constant-time.ts';
import { headerValue } from '../verification/raw-request.ts';
import { isMethod } from './handshake-request.ts';
import { jsonResponse, refusal } from './handshake-responses.ts';
import type { HandshakeAnswer } from './handshake-types.ts';

/**
 * Okta event hook verification: a one-time GET with `X-Okta-Verification-Challenge`, answered 200
 * JSON `{"verification": <value>}`. Okta sends the hook's configured auth header on this GET too,
 * so when the source configures one it is checked.
 */
export const answerOktaVerification: HandshakeAnswer = (req, context) => {
  if (!isMethod(req, 'GET')) return null;
  const challenge = headerValue(req, 'x-okta-verification-challenge');
  if (challenge === undefined) return null;
  const expected = context.settings.authorization;
  if (expected !== undefined && expected !== '') {
    const presented = headerValue(req, 'authorization');
    if (presented === undefined || !constantTimeEqualSecret(presented, expected)) {
      return { response: refusal(401, 'authorization header does not match'), verifyFirst: false };
    }
  }
  return { response: jsonResponse({ verification: challenge }), verifyFirst: false };
};
