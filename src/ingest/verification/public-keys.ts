import { createPublicKey, type KeyObject } from 'node:crypto';
import { HookyardError } from '../../domain/errors.ts';

// DER SubjectPublicKeyInfo header for a raw 32-byte Ed25519 key (RFC 8410), so a raw key from a
// provider dashboard can become a KeyObject without a JWK round trip.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Parses an Ed25519 public key in the forms providers hand out: Discord's 64 hex characters,
 * Standard Webhooks' `whpk_` + base64, bare base64 of the 32 bytes, or PEM.
 */
export function parseEd25519PublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('-----BEGIN')) return assertType(createPublicKey(trimmed), 'ed25519');
    let raw: Buffer;
    if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
      raw = Buffer.from(trimmed, 'hex');
    } else {
      const bare = trimmed.startsWith('whpk_') ? trimmed.slice('whpk_'.length) : trimmed;
      raw = Buffer.from(bare, 'base64');
    }
    if (raw.length !== 32) throw new Error(`decoded to ${raw.length} bytes`);
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch (error) {
    throw new HookyardError(
      'validation_failed',
      'publicKey is not an Ed25519 public key; expected 64 hex characters, whpk_<base64>, base64 of 32 bytes, or PEM',
      { cause: error },
    );
  }
}

/** Parses an ECDSA P-256 public key: base64 DER SubjectPublicKeyInfo (SendGrid's form) or PEM. */
export function parseEcdsaP256PublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  try {
    const key = trimmed.startsWith('-----BEGIN')
      ? createPublicKey(trimmed)
      : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
    assertType(key, 'ec');
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('not a P-256 key');
    return key;
  } catch (error) {
    throw new HookyardError(
      'validation_failed',
      'publicKey is not an ECDSA P-256 public key; expected base64 DER SubjectPublicKeyInfo or PEM',
      { cause: error },
    );
  }
}

function assertType(key: KeyObject, type: string): KeyObject {
  if (key.asymmetricKeyType !== type) throw new Error(`expected a ${type} key, got ${key.asymmetricKeyType}`);
  return key;
}
