import { isMethod, jsonObjectBody } from './handshake-request.ts';
import { emptyResponse, refusal } from './handshake-responses.ts';
import type { HandshakeAnswer } from './handshake-types.ts';

/**
 * Notion: an unsigned POST `{"verification_token":"secret_…"}` when the subscription is created.
 * Acknowledge with 200 and surface the token; the operator pastes it into Notion, and it then keys
 * `X-Notion-Signature`. Being unsigned, it is only taken while the source has no live secret or is
 * awaiting one, so a stranger cannot swap the key.
 */
export const answerNotionVerificationToken: HandshakeAnswer = (req, context) => {
  if (!isMethod(req, 'POST')) return null;
  const body = jsonObjectBody(req);
  const token = body?.verification_token;
  if (typeof token !== 'string' || body?.type !== undefined) return null;
  if (token === '') return { response: refusal(400, 'verification_token is empty'), verifyFirst: false };
  if (context.liveSecrets.length > 0 && context.settings.awaitingSecret !== true) {
    return {
      response: refusal(403, 'this source already has a secret and is not awaiting a new one'),
      verifyFirst: false,
    };
  }
  return {
    response: emptyResponse(200),
    verifyFirst: false,
    effect: { kind: 'store-verification-token', token },
  };
};
