import { headerValue } from '../verification/raw-request.ts';
import { isMethod } from './handshake-request.ts';
import { emptyResponse, refusal } from './handshake-responses.ts';
import type { HandshakeAnswer } from './handshake-types.ts';

/**
 * Asana: while a webhook is being created, Asana POSTs `X-Hook-Secret`; echoing it in a 200 confirms
 * the hook, and the value becomes the key for later `X-Hook-Signature`s. The request is unsigned,
 * so a new secret is only taken while the source has none or is awaiting one.
 */
export const answerAsanaHookSecret: HandshakeAnswer = (req, context) => {
  if (!isMethod(req, 'POST')) return null;
  const secret = headerValue(req, 'x-hook-secret');
  if (secret === undefined) return null;
  if (secret === '') return { response: refusal(400, 'x-hook-secret is empty'), verifyFirst: false };
  if (context.liveSecrets.length > 0 && context.settings.awaitingSecret !== true) {
    return {
      response: refusal(403, 'this source already has a secret and is not awaiting a new one'),
      verifyFirst: false,
    };
  }
  return {
    response: emptyResponse(200, { 'x-hook-secret': secret }),
    verifyFirst: false,
    effect: { kind: 'store-secret', secret },
  };
};
