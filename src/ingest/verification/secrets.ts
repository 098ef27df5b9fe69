import { HookyardError } from '../../domain/errors.ts';

/**
 * A shared secret as configured on a source. Rotation keeps several: every secret whose `notAfterMs`
 * is absent or still in the future is tried, so a provider can roll its key without dropped events.
 * The order is meaningful where a provider gives its keys roles (Box: primary, then secondary) and
 * where one secret must be picked to answer a handshake (the first live one).
 */
export interface Secret {
  value: string;
  notAfterMs?: number;
}

export const SECRET_ENCODINGS = ['utf8', 'base64'] as const;
/** `utf8`: the secret string's bytes, as-is. `base64`: decoded after removing a `whsec_` prefix. */
export type SecretEncoding = (typeof SECRET_ENCODINGS)[number];

/** A secret decoded once at compile time. `index` is its position in the configured list. */
export interface CompiledSecret {
  readonly index: number;
  readonly key: Buffer;
  readonly notAfterMs: number | undefined;
}

export function isLive(secret: { notAfterMs?: number | undefined }, nowMs: number): boolean {
  return secret.notAfterMs === undefined || secret.notAfterMs > nowMs;
}

export function decodeSecret(value: string, encoding: SecretEncoding): Buffer {
  if (encoding === 'utf8') return Buffer.from(value, 'utf8');
  const bare = value.startsWith('whsec_') ? value.slice('whsec_'.length) : value;
  return Buffer.from(bare, 'base64');
}

/** Validates the configured secrets and decodes them; throws a validation error naming the field. */
export function compileSecrets(
  secrets: readonly Secret[] | undefined,
  encoding: SecretEncoding,
): readonly CompiledSecret[] {
  return validateSecrets(secrets).map((secret, index) => ({
    index,
    key: decodeSecret(secret.value, encoding),
    notAfterMs: secret.notAfterMs,
  }));
}

export function validateSecrets(secrets: unknown): readonly Secret[] {
  if (secrets === undefined) return [];
  if (!Array.isArray(secrets)) {
    throw new HookyardError('validation_failed', 'secrets must be an array of { value, notAfterMs? }');
  }
  return secrets.map((secret: unknown, i): Secret => {
    if (secret === null || typeof secret !== 'object') {
      throw new HookyardError('validation_failed', `secrets[${i}] must be an object { value, notAfterMs? }`);
    }
    const { value, notAfterMs } = secret as { value?: unknown; notAfterMs?: unknown };
    if (typeof value !== 'string' || value === '') {
      throw new HookyardError('validation_failed', `secrets[${i}].value must be a non-empty string`);
    }
    if (notAfterMs !== undefined && (typeof notAfterMs !== 'number' || !Number.isFinite(notAfterMs))) {
      throw new HookyardError(
        'validation_failed',
        `secrets[${i}].notAfterMs must be a number of milliseconds since the epoch, or absent`,
      );
    }
    return notAfterMs === undefined ? { value } : { value, notAfterMs };
  });
}

/** Describes which secret matched, for `detail`; positions are not secret, values are. */
export function describeSecret(secret: CompiledSecret, total: number): string {
  return total > 1 ? `secret ${secret.index + 1} of ${total}` : 'the secret';
}
