import { HookyardError } from '../domain/errors.ts';
import type { SecretBox } from '../security/secret-box.ts';

/**
 * An endpoint's own request headers at rest: each value sealed on its own with the secret box
 * (they often carry the receiver's credentials), names in clear. The API shows every value as
 * MASKED_HEADER_VALUE; sending that back for a header the endpoint has keeps the stored value, so
 * a client can read an endpoint, change one header and write the list back.
 *
 * Values stored before header values were sealed are read as they are and sealed at the next
 * update of the endpoint's headers.
 */
export const MASKED_HEADER_VALUE = '[sealed]';

const SEALED = /^hy1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function isSealed(value: string): boolean {
  return SEALED.test(value);
}

/** Seals `headers` (validated) for storage; masked values take the stored value of the same name. */
export function sealEndpointHeaders(
  box: SecretBox,
  headers: Readonly<Record<string, string>>,
  current: Readonly<Record<string, string>>,
): Record<string, string> {
  const stored = new Map<string, string>();
  for (const [name, value] of Object.entries(current)) stored.set(name.toLowerCase(), value);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === MASKED_HEADER_VALUE) {
      const kept = stored.get(name.toLowerCase());
      if (kept === undefined) {
        throw new HookyardError(
          'validation_failed',
          `headers: "${name}" is ${MASKED_HEADER_VALUE}, which keeps a stored value, but the endpoint has no header "${name}"; give its value.`,
        );
      }
      out[name] = isSealed(kept) ? kept : box.seal(kept);
    } else {
      out[name] = box.seal(value);
    }
  }
  return out;
}

/** The value to send: opened when sealed, as stored otherwise. */
export function openEndpointHeader(box: SecretBox, value: string): string {
  return isSealed(value) ? box.open(value) : value;
}

/** What the API shows: the names, every value masked. */
export function maskEndpointHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) out[name] = MASKED_HEADER_VALUE;
  return out;
}
