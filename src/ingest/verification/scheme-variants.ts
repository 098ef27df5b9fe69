import { compileScheme, type VerifierKeys } from './generic-verifier.ts';
import { headerValue } from './raw-request.ts';
import type { VerificationScheme } from './verification-scheme.ts';
import { rejected, type VerifyFn, type VerifyResult } from './verify-result.ts';

/**
 * One way a provider may sign. A provider with several (Svix's branded and unbranded headers,
 * Shopify's `X-` and events-style headers, GitLab's token or signing token) lists variants; the
 * first whose `whenHeader` is present (or that has none) handles the request. Within a variant the
 * schemes are alternatives by key material (Standard Webhooks: HMAC with secrets, Ed25519 with a
 * public key); each one the source has keys for is tried.
 */
export interface SchemeVariant {
  whenHeader?: string;
  schemes: readonly VerificationScheme[];
}

export function compileVariants(variants: readonly SchemeVariant[], keys: VerifierKeys): VerifyFn {
  const compiled = variants.map((v) => ({
    whenHeader: v.whenHeader,
    verify: compileAlternatives(v.schemes, keys),
  }));
  const fallbackHeader = variants[variants.length - 1]?.whenHeader;
  // One unconditional variant (most providers): its verifier is the whole verifier.
  const [single] = compiled;
  if (compiled.length === 1 && single && single.whenHeader === undefined) return single.verify;
  return (req, nowMs, options) => {
    for (const variant of compiled) {
      if (variant.whenHeader === undefined || headerValue(req, variant.whenHeader) !== undefined) {
        return variant.verify(req, nowMs, options);
      }
    }
    return rejected(`missing header ${fallbackHeader ?? 'for any known signature variant'}`);
  };
}

function hasKeyMaterial(scheme: VerificationScheme, keys: VerifierKeys): boolean {
  switch (scheme.type) {
    case 'none':
      return true;
    case 'ed25519':
    case 'ecdsa-p256':
      return keys.publicKey !== undefined;
    default:
      return (keys.secrets?.length ?? 0) > 0;
  }
}

function compileAlternatives(schemes: readonly VerificationScheme[], keys: VerifierKeys): VerifyFn {
  const usable = schemes.filter((s) => hasKeyMaterial(s, keys));
  // With no key material at all, compile the first so the request gets its "no secret configured".
  const fns = (usable.length > 0 ? usable : schemes.slice(0, 1)).map((s) => compileScheme(s, keys));
  const [only] = fns;
  if (fns.length === 1 && only) return only;
  return (req, nowMs, options) => {
    let first: VerifyResult | undefined;
    for (const fn of fns) {
      const result = fn(req, nowMs, options);
      if (result.ok) return result;
      first ??= result;
    }
    return first ?? rejected('no verification scheme configured');
  };
}

/** A copy of the scheme with its timestamp tolerance replaced (a source's `toleranceSeconds`). */
export function withTolerance(
  scheme: VerificationScheme,
  toleranceSeconds: number | undefined,
): VerificationScheme {
  if (toleranceSeconds === undefined) return scheme;
  if (scheme.type !== 'hmac' && scheme.type !== 'ed25519' && scheme.type !== 'ecdsa-p256') return scheme;
  if (!scheme.timestamp) return scheme;
  return { ...scheme, timestamp: { ...scheme.timestamp, toleranceSeconds } };
}
