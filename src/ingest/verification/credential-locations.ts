import type { VerificationScheme } from './verification-scheme.ts';

/**
 * Where a source's own credential travels in a request, as its schemes say: the header an api-key
 * scheme reads (or `authorization` for basic), the query parameter a token scheme reads. Those
 * values prove the request; they are not part of the event, so they are not stored with it.
 * A token in a JSON body field stays: the body is kept byte for byte, as it was signed.
 */
export interface CredentialLocations {
  /** Lower-case header names. */
  readonly headers: readonly string[];
  readonly queryParams: readonly string[];
}

export function credentialLocations(schemes: readonly VerificationScheme[]): CredentialLocations {
  const headers = new Set<string>();
  const queryParams = new Set<string>();
  for (const scheme of schemes) {
    if (scheme.type === 'api-key') headers.add(scheme.header.toLowerCase());
    else if (scheme.type === 'basic') headers.add('authorization');
    else if (scheme.type === 'token' && scheme.query !== undefined) queryParams.add(scheme.query);
  }
  return { headers: [...headers], queryParams: [...queryParams] };
}
