import type { RawRequest } from '../verification/raw-request.ts';

/**
 * Subscription handshakes: requests a provider sends to prove an endpoint is willing (or to hand it a
 * secret) rather than to deliver an event. Each kind is answered by one pure function.
 */
export const HANDSHAKE_KINDS = [
  'slack-url-verification',
  'microsoft-graph-validation',
  'meta-hub-challenge',
  'zoom-url-validation',
  'dropbox-challenge',
  'twitter-crc',
  'asana-hook-secret',
  'discord-ping',
  'okta-verification',
  'trello-head',
  'notion-verification-token',
] as const;
export type HandshakeKind = (typeof HANDSHAKE_KINDS)[number];

/** Per-source handshake settings. */
export interface HandshakeSettings {
  /** Meta: the Verify Token entered in the app dashboard, compared with `hub.verify_token`. */
  verifyToken?: string;
  /** Okta: the value the hook sends in `Authorization`; checked on the verification GET when set. */
  authorization?: string;
  /**
   * Asana and Notion hand over a new secret in an unsigned request. Accepted only while the source
   * has no live secret, or while this is true (the subscription manager sets it while it creates the
   * webhook); otherwise anyone could replace the signing key.
   */
  awaitingSecret?: boolean;
}

export interface HandshakeResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
}

export type HandshakeEffect =
  | { kind: 'store-secret'; secret: string }
  | { kind: 'store-verification-token'; token: string };

/**
 * What to answer. When `verifyFirst` is true the request is signed and must pass the source's
 * verifier before `response` is sent (and before any effect is applied); completeHandshake does that.
 */
export interface HandshakeOutcome {
  response: HandshakeResponse;
  verifyFirst: boolean;
  effect?: HandshakeEffect;
}

/** What a handshake function may read besides the request. Secrets are the live ones, in order. */
export interface HandshakeContext {
  settings: HandshakeSettings;
  liveSecrets: readonly string[];
}

/**
 * A handshake written as code by a project (for a provider we have no preset for). The sandbox will
 * implement this; detectHandshake calls it before the built-in kind. Return null when the request is
 * not a handshake. It must be synchronous and pure: it runs on the ingest hot path.
 */
export interface CustomHandshake {
  readonly name: string;
  answer(request: RawRequest, context: HandshakeContext): HandshakeOutcome | null;
}

export type HandshakeAnswer = (request: RawRequest, context: HandshakeContext) => HandshakeOutcome | null;
