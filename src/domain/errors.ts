/**
 * One error catalogue. Every error the API answers with has a stable `code`, an HTTP status and a
 * detail that says what was wrong and what is allowed. docs/errors.md lists this table.
 */
export const ERROR_CATALOGUE = {
  route_not_found: { status: 404, title: 'No route matches this method and path.' },
  not_found: { status: 404, title: 'The resource does not exist or is not visible to this key.' },
  invalid_json: { status: 400, title: 'The request body is not valid JSON.' },
  validation_failed: { status: 400, title: 'The request does not match the schema.' },
  unsupported_media_type: { status: 415, title: 'The content type is not accepted here.' },
  unauthorized: { status: 401, title: 'A valid bearer key is required.' },
  user_token_invalid: {
    status: 401,
    title: 'A valid user token (a JWT signed with a key of the project) is required.',
  },
  user_token_expired: { status: 401, title: 'The user token has expired; get a new one.' },
  forbidden: { status: 403, title: 'The key may not perform this action.' },
  conflict: { status: 409, title: 'The request conflicts with the current state.' },
  integration_key_reserved: {
    status: 409,
    title: 'The key belongs to a shipped integration; a project definition needs another key.',
  },
  credential_needs_reauth: {
    status: 409,
    title: 'The provider refused the credential; the user must connect the account again.',
  },
  redirect_not_allowed: {
    status: 400,
    title: 'The redirect URL is not on an origin the project allows for its connect flow.',
  },
  oauth_state_invalid: {
    status: 400,
    title: 'The OAuth state is unknown, expired or already used; start the connect again.',
  },
  provider_error: { status: 502, title: 'The provider did not answer as expected.' },
  payload_too_large: { status: 413, title: 'The body is larger than the limit.' },
  signature_invalid: { status: 401, title: 'The webhook signature did not verify.' },
  handshake_failed: { status: 403, title: 'The subscription handshake was refused.' },
  rate_limited: { status: 429, title: 'Too many requests.' },
  workflow_response_timeout: {
    status: 504,
    title: 'The workflow did not respond in time; its execution goes on.',
  },
  store_unavailable: { status: 503, title: 'The store cannot commit right now; retry later.' },
  shutting_down: { status: 503, title: 'The server is shutting down; retry later.' },
  internal: { status: 500, title: 'Internal error.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class HookyardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const entry = ERROR_CATALOGUE[code];
    super(detail ?? entry.title, options);
    this.name = 'HookyardError';
    this.code = code;
    this.status = entry.status;
    this.detail = detail ?? entry.title;
  }
}

export function notFound(what: string): HookyardError {
  return new HookyardError('not_found', `${what} was not found.`);
}

/** Raised by the store when it cannot commit (disk full, database gone); ingest answers 503. */
export class StoreUnavailableError extends HookyardError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('store_unavailable', detail, options);
    this.name = 'StoreUnavailableError';
  }
}
