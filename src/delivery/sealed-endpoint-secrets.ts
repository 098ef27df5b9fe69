import { HookyardError } from '../domain/errors.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { generateEndpointSecret, parseEndpointSecret } from './endpoint-secret.ts';

/**
 * An endpoint's signing secrets at rest: one sealed JSON list, the current secret first. A
 * rotation puts a new secret first and gives the old one a `notAfterMs`; until then both sign
 * (one `v1,…` signature each), so receivers can switch at their own pace.
 */

export interface EndpointSecretEntry {
  readonly secret: string;
  /** null for the current secret; the end of the grace period for older ones. */
  readonly notAfterMs: number | null;
}

/** Secrets kept at most (the current one plus older ones in their grace period). */
export const MAX_ENDPOINT_SECRETS = 5;
export const DEFAULT_ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;
export const MAX_ROTATION_GRACE_MS = 30 * 24 * 60 * 60 * 1000;

export function sealEndpointSecrets(box: SecretBox, entries: readonly EndpointSecretEntry[]): string {
  return box.seal(JSON.stringify(entries));
}

export function openEndpointSecrets(box: SecretBox, sealed: string): EndpointSecretEntry[] {
  return JSON.parse(box.open(sealed)) as EndpointSecretEntry[];
}

/** The secrets that still sign at `nowMs`, current first. */
export function liveEndpointSecrets(
  entries: readonly EndpointSecretEntry[],
  nowMs: number,
): EndpointSecretEntry[] {
  return entries.filter((e) => e.notAfterMs === null || e.notAfterMs > nowMs);
}

/** A new secret (given, validated, or generated) for a new endpoint. */
export function firstEndpointSecret(secret: string | undefined): EndpointSecretEntry[] {
  if (secret !== undefined) parseEndpointSecret(secret);
  return [{ secret: secret ?? generateEndpointSecret(), notAfterMs: null }];
}

/**
 * Rotation: `next` becomes current; the secrets live now keep signing until `nowMs + graceMs`
 * (or until their own earlier end). Expired ones are dropped, and at most MAX_ENDPOINT_SECRETS kept.
 */
export function rotateEndpointSecrets(
  entries: readonly EndpointSecretEntry[],
  next: string,
  nowMs: number,
  graceMs: number,
): EndpointSecretEntry[] {
  parseEndpointSecret(next);
  if (!Number.isInteger(graceMs) || graceMs < 0 || graceMs > MAX_ROTATION_GRACE_MS) {
    throw new HookyardError(
      'validation_failed',
      `graceMs is ${graceMs}; expected an integer from 0 to ${MAX_ROTATION_GRACE_MS} (30 days).`,
    );
  }
  const until = nowMs + graceMs;
  const older = liveEndpointSecrets(entries, nowMs)
    .map((e) => ({ secret: e.secret, notAfterMs: Math.min(e.notAfterMs ?? until, until) }))
    .filter((e) => e.notAfterMs > nowMs && e.secret !== next);
  return [{ secret: next, notAfterMs: null }, ...older].slice(0, MAX_ENDPOINT_SECRETS);
}
