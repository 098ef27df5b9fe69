import type { VerifyResult } from '../verification/verify-result.ts';
import { refusal } from './handshake-responses.ts';
import type { HandshakeEffect, HandshakeOutcome, HandshakeResponse } from './handshake-types.ts';

/**
 * The response actually sent for a handshake. A `verifyFirst` outcome is answered only when the
 * source's verifier accepted the request; otherwise 401 and no effect (Discord requires exactly this
 * for its deliberately mis-signed PING). `verification` is null when the caller did not verify.
 */
export function completeHandshake(
  outcome: HandshakeOutcome,
  verification: VerifyResult | null,
): { response: HandshakeResponse; effect?: HandshakeEffect } {
  if (outcome.verifyFirst && verification?.ok !== true) {
    return { response: refusal(401, verification ? verification.reason : 'signature not verified') };
  }
  return outcome.effect
    ? { response: outcome.response, effect: outcome.effect }
    : { response: outcome.response };
}
