import type { AuthDefinition } from './integration-definition.ts';
import type { CredentialAuth } from './template-renderer.ts';

/** What a connected account authenticates with; which members are set depends on the auth type. */
export interface CredentialSecrets {
  accessToken?: string;
  apiKey?: string;
  username?: string;
  password?: string;
}

/**
 * The auth a provider request carries by default for this integration: OAuth 2 sends
 * `Authorization: Bearer <access token>`; an API key goes in the declared header (default
 * Authorization, prefix default `Bearer `) or query parameter; basic sends `user:password`.
 * Undefined when the integration has no auth or the credential lacks the value.
 */
export function credentialAuth(
  auth: AuthDefinition,
  credential: CredentialSecrets | undefined,
): CredentialAuth | undefined {
  if (!credential) return undefined;
  switch (auth.type) {
    case 'oauth2':
      return credential.accessToken
        ? { header: 'authorization', value: `Bearer ${credential.accessToken}` }
        : undefined;
    case 'apiKey': {
      const key = credential.apiKey ?? credential.accessToken;
      if (!key) return undefined;
      if (auth.query) return { query: auth.query, value: key };
      return {
        header: (auth.header ?? 'authorization').toLowerCase(),
        value: `${auth.prefix ?? 'Bearer '}${key}`,
      };
    }
    case 'basic':
      return credential.username !== undefined && credential.password !== undefined
        ? {
            header: 'authorization',
            value: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`,
          }
        : undefined;
    case 'none':
      return undefined;
  }
}
