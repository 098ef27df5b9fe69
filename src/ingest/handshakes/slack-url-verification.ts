import { isMethod, jsonObjectBody } from './handshake-request.ts';
import { textResponse } from './handshake-responses.ts';
import type { HandshakeAnswer } from './handshake-types.ts';

/**
 * Slack Events API `url_verification`: a POST with `{"type":"url_verification","challenge":…}`,
 * answered 200 with the challenge as text/plain. The request is signed like any event, so with a
 * signing secret configured it must verify first.
 */
export const answerSlackUrlVerification: HandshakeAnswer = (req, context) => {
  if (!isMethod(req, 'POST')) return null;
  const body = jsonObjectBody(req);
  if (body?.type !== 'url_verification' || typeof body.challenge !== 'string') return null;
  return { response: textResponse(body.challenge), verifyFirst: context.liveSecrets.length > 0 };
};
