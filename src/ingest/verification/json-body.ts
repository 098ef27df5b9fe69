/**
 * Parses a body as JSON for reading a few fields (timestamps, ids, handshake markers); undefined
 * when it is not JSON. Never used to decide what was signed: signatures cover the raw bytes.
 */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
