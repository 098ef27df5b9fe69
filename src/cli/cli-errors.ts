/**
 * Exit statuses of the client commands, which scripts may rely on:
 * 0 success; 1 the server refused or failed the request (not found, conflict, validation…) or
 * could not be reached; 2 bad usage; 3 not authenticated (no key, or the key was refused).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, auth: 3 } as const;

/** Bad usage: a missing or malformed option. */
export class UsageError extends Error {}

/** An answer of the server that is not a success, with its `{ code, detail }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** The server could not be reached at all. */
export class UnreachableError extends Error {}

export function exitStatusOf(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof ApiError && err.status === 401) return EXIT.auth;
  return EXIT.failed;
}
