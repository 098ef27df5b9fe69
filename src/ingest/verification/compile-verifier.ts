import { HookyardError } from '../../domain/errors.ts';
import { compileScheme } from './generic-verifier.ts';
import { getProviderPreset, PROVIDER_NAMES } from './provider-presets.ts';
import { parseToleranceSeconds, parseVerificationScheme } from './scheme-validation.ts';
import { withTolerance } from './scheme-variants.ts';
import { type Secret, validateSecrets } from './secrets.ts';
import type { VerifyFn } from './verify-result.ts';

/**
 * How a source verifies: a provider preset by name (or alias), or a custom scheme given as data;
 * exactly one of the two. `secrets` are tried in order while live; `publicKey` is for Ed25519 and
 * ECDSA schemes; `toleranceSeconds` overrides the preset's or scheme's timestamp tolerance.
 */
export interface VerifierConfig {
  provider?: string;
  scheme?: unknown;
  secrets?: readonly Secret[];
  publicKey?: string;
  toleranceSeconds?: number;
}

/**
 * Builds the verifier for one source. Everything that can be done once is done here (config
 * validated, secrets decoded, public keys parsed into KeyObjects, templates and JSON paths compiled),
 * so the returned function only does per-request work. Throws HookyardError('validation_failed')
 * with a message naming the field for any config error.
 */
export function compileVerifier(config: VerifierConfig): VerifyFn {
  const secrets = validateSecrets(config.secrets);
  if (config.publicKey !== undefined && (typeof config.publicKey !== 'string' || config.publicKey === '')) {
    throw new HookyardError('validation_failed', 'publicKey must be a non-empty string');
  }
  const toleranceSeconds =
    config.toleranceSeconds === undefined
      ? undefined
      : parseToleranceSeconds(config.toleranceSeconds, 'toleranceSeconds');
  const keys = { secrets, ...(config.publicKey === undefined ? {} : { publicKey: config.publicKey }) };

  if ((config.provider === undefined) === (config.scheme === undefined)) {
    throw new HookyardError(
      'validation_failed',
      'give exactly one of: provider (a preset name), scheme (a custom scheme)',
    );
  }
  if (config.provider !== undefined) {
    const preset = typeof config.provider === 'string' ? getProviderPreset(config.provider) : undefined;
    if (!preset) {
      throw new HookyardError(
        'validation_failed',
        `provider must be one of: ${PROVIDER_NAMES.join(', ')} (got ${JSON.stringify(config.provider)})`,
      );
    }
    return preset.compile(keys, toleranceSeconds);
  }
  return compileScheme(withTolerance(parseVerificationScheme(config.scheme), toleranceSeconds), keys);
}
