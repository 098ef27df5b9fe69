// The one signature check both reference servers of the ingest bench make (bare-ingest-server.js
// and minimal-store-server.js): GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
// body>`, compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** True when `header` is the body's GitHub-style signature under `secret`. */
export function githubSignatureValid(secret, body, header) {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const given = Buffer.from(String(header ?? ''));
  return given.length === expected.length && timingSafeEqual(given, expected);
}
