import type { RawRequest } from '../verification/raw-request.ts';
import { isLive, type Secret } from '../verification/secrets.ts';
import { answerAsanaHookSecret } from './asana-hook-secret.ts';
import { answerDiscordPing } from './discord-ping.ts';
import { answerDropboxChallenge } from './dropbox-challenge.ts';
import type {
  CustomHandshake,
  HandshakeAnswer,
  HandshakeKind,
  HandshakeOutcome,
  HandshakeSettings,
} from './handshake-types.ts';
import { answerMetaHubChallenge } from './meta-hub-challenge.ts';
import { answerMicrosoftGraphValidation } from './microsoft-graph-validation.ts';
import { answerNotionVerificationToken } from './notion-verification-token.ts';
import { answerOktaVerification } from './okta-verification.ts';
import { answerSlackUrlVerification } from './slack-url-verification.ts';
import { answerTrelloHead } from './trello-head.ts';
import { answerTwitterCrc } from './twitter-crc.ts';
import { answerZoomUrlValidation } from './zoom-url-validation.ts';

const ANSWERS: Record<HandshakeKind, HandshakeAnswer> = {
  'slack-url-verification': answerSlackUrlVerification,
  'microsoft-graph-validation': answerMicrosoftGraphValidation,
  'meta-hub-challenge': answerMetaHubChallenge,
  'zoom-url-validation': answerZoomUrlValidation,
  'dropbox-challenge': answerDropboxChallenge,
  'twitter-crc': answerTwitterCrc,
  'asana-hook-secret': answerAsanaHookSecret,
  'discord-ping': answerDiscordPing,
  'okta-verification': answerOktaVerification,
  'trello-head': answerTrelloHead,
  'notion-verification-token': answerNotionVerificationToken,
};

export interface DetectHandshakeInput {
  /** The source's handshake kind (from its preset), or null for none. */
  kind: HandshakeKind | null;
  settings: HandshakeSettings;
  secrets: readonly Secret[];
  request: RawRequest;
  nowMs: number;
  /** A project's handshake given as code; asked before the built-in kind. */
  custom?: CustomHandshake;
}

/**
 * Decides whether a request is a subscription handshake and, if so, what to answer. Null means "an
 * ordinary event: verify and ingest it". Pure: effects (storing a secret) are returned, not done.
 */
export function detectHandshake(input: DetectHandshakeInput): HandshakeOutcome | null {
  // Most sources have no handshake: answer before building anything (this runs for every request).
  if (input.kind === null && !input.custom) return null;
  const context = {
    settings: input.settings,
    liveSecrets: input.secrets.filter((s) => isLive(s, input.nowMs)).map((s) => s.value),
  };
  if (input.custom) {
    const outcome = input.custom.answer(input.request, context);
    if (outcome) return outcome;
  }
  if (input.kind === null) return null;
  return ANSWERS[input.kind](input.request, context);
}
