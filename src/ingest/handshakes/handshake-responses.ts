import type { HandshakeResponse } from './handshake-types.ts';

/**
 * Response builders shared by the handshakes. Echoed challenges are attacker-chosen text, so they
 * go out as text/plain with nosniff: a browser must never render them as HTML.
 */
export function textResponse(body: string, status = 200): HandshakeResponse {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
    body,
  };
}

export function jsonResponse(value: unknown, status = 200): HandshakeResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

export function emptyResponse(status = 200, headers: Record<string, string> = {}): HandshakeResponse {
  return { status, headers, body: '' };
}

/** A refusal, shaped like every other Hookyard error; the reason says nothing secret. */
export function refusal(status: 400 | 401 | 403, reason: string): HandshakeResponse {
  const code =
    status === 401 ? 'signature_invalid' : status === 403 ? 'handshake_failed' : 'validation_failed';
  return jsonResponse({ code, detail: reason }, status);
}
