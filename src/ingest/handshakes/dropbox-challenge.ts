import { queryParams } from '../verification/raw-request.ts';
import { isMethod } from './handshake-request.ts';
import { textResponse } from './handshake-responses.ts';
import type { HandshakeAnswer } from './handshake-types.ts';

/**
 * Dropbox: `GET ?challenge=…`, echoed with text/plain and `X-Content-Type-Options: nosniff` (both
 * required by Dropbox's docs). Unsigned.
 */
export const answerDropboxChallenge: HandshakeAnswer = (req) => {
  if (!isMethod(req, 'GET')) return null;
  const challenge = queryParams(req).get('challenge');
  if (challenge === null) return null;
  return { response: textResponse(challenge), verifyFirst: false };
};
