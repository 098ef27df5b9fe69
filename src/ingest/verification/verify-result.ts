import type { RawRequest } from './raw-request.ts';

/**
 * The outcome of verifying one request. `reason` is short, says what was wrong, and never contains
 * secret material, because it is logged and shown in the dashboard.
 */
export type VerifyResult = { ok: true; detail: string } | { ok: false; reason: string };

export interface VerifyOptions {
  /**
   * False skips the timestamp tolerance check (the timestamp is still read and signed). Used for
   * captured requests verified after the fact, where any timestamp is stale by now.
   */
  checkFreshness?: boolean;
}

/** A compiled verifier: everything that can be decided once is decided before the first request. */
export type VerifyFn = (req: RawRequest, nowMs: number, options?: VerifyOptions) => VerifyResult;

export function verified(detail: string): VerifyResult {
  return { ok: true, detail };
}

export function rejected(reason: string): VerifyResult {
  return { ok: false, reason };
}
