import { queryParams } from '../verification/raw-request.ts';
import { textResponse } from './handshake-responses.ts';
import type { HandshakeAnswer } from './handshake-types.ts';

/**
 * Microsoft Graph subscription validation: `?validationToken=<url-encoded>` on the notification
 * (or lifecycle) URL, answered within 10 s with 200 text/plain and the URL-DECODED token; echoing
 * the encoded form fails. Unsigned: there is nothing to verify it with.
 */
export const answerMicrosoftGraphValidation: HandshakeAnswer = (req) => {
  const token = queryParams(req).get('validationToken');
  if (token === null) return null;
  return { response: textResponse(token), verifyFirst: false };
};
