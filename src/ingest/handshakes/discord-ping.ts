import { isMethod, jsonObjectBody } from './handshake-request.ts';
import { jsonResponse } from './handshake-responses.ts';
import type { HandshakeAnswer } from './handshake-types.ts';

/**
 * Discord interactions PING (`"type":1`) is answered `{"type":1}`, but only after its Ed25519
 * signature verifies: Discord deliberately sends a badly signed PING when the URL is saved and
 * refuses the endpoint unless that one gets a 401.
 */
export const answerDiscordPing: HandshakeAnswer = (req) => {
  if (!isMethod(req, 'POST')) return null;
  if (jsonObjectBody(req)?.type !== 1) return null;
  return { response: jsonResponse({ type: 1 }), verifyFirst: true };
};
