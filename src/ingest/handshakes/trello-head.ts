import { isMethod } from './handshake-request.ts';
import { emptyResponse } from './handshake-responses.ts';
import type { HandshakeAnswer } from './handshake-types.ts';

/** Trello probes the callback URL with an unsigned HEAD when a webhook is created; it must get 200. */
export const answerTrelloHead: HandshakeAnswer = (req) =>
  isMethod(req, 'HEAD') ? { response: emptyResponse(200), verifyFirst: false } : null;
