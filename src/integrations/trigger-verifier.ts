import { compileVerifier } from '../ingest/verification/compile-verifier.ts';
import type { Secret } from '../ingest/verification/secrets.ts';
import type { VerifyFn } from '../ingest/verification/verify-result.ts';
import type { TriggerVerification } from './integration-definition.ts';

/**
 * The verifier for a trigger's verification block, with its key material already resolved (the
 * `secret` and `publicKey` templates rendered by the caller): the same compileVerifier sources use,
 * given the preset or the generic scheme without the block's key fields.
 */
export function compileTriggerVerifier(
  verification: TriggerVerification | undefined,
  keys: { secrets: readonly Secret[]; publicKey?: string },
): VerifyFn {
  if (!verification) return compileVerifier({ scheme: { type: 'none' } });
  const { provider, secret: _secret, publicKey: _publicKey, toleranceSeconds, ...scheme } = verification;
  const common = {
    secrets: keys.secrets,
    ...(keys.publicKey !== undefined ? { publicKey: keys.publicKey } : {}),
    ...(toleranceSeconds !== undefined ? { toleranceSeconds } : {}),
  };
  return provider !== undefined
    ? compileVerifier({ provider, ...common })
    : compileVerifier({ scheme, ...common });
}
