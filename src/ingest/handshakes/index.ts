export { completeHandshake } from './complete-handshake.ts';
export { type DetectHandshakeInput, detectHandshake } from './detect-handshake.ts';
export {
  type CustomHandshake,
  HANDSHAKE_KINDS,
  type HandshakeContext,
  type HandshakeEffect,
  type HandshakeKind,
  type HandshakeOutcome,
  type HandshakeResponse,
  type HandshakeSettings,
} from './handshake-types.ts';
