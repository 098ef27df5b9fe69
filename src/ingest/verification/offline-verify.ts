import { HookyardError } from '../../domain/errors.ts';
import { compileVerifier } from './compile-verifier.ts';
import { lowerCaseHeaders, type RawRequest } from './raw-request.ts';

/** A request as saved to a file (`hookyard verify`): header names in any case, body as text or base64. */
export interface CapturedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  body?: string;
  body_base64?: string;
}

export interface OfflineVerifyInput {
  provider: string;
  /** In the provider's documented order (Box: primary, then secondary). */
  secrets: readonly string[];
  publicKey?: string;
  request: CapturedRequest;
  /** The clock to check the timestamp against; absent means "do not check freshness". */
  nowSeconds?: number;
}

export type OfflineVerifyResult = { valid: true; detail: string } | { valid: false; reason: string };

/**
 * Verifies a captured request with exactly the verifier the server compiles for that provider.
 * A capture is old by the time anyone verifies it, so freshness is only checked when the caller
 * says what "now" is. Config errors (unknown provider, bad key) come back as `valid: false` with
 * the validation message, so the CLI has one shape to print.
 */
export function verifyCapturedRequest(input: OfflineVerifyInput): OfflineVerifyResult {
  try {
    const { request } = input;
    if (request.body !== undefined && request.body_base64 !== undefined) {
      return { valid: false, reason: 'request has both body and body_base64; give one' };
    }
    const raw: RawRequest = {
      method: request.method,
      url: request.url,
      headers: lowerCaseHeaders(request.headers),
      body:
        request.body_base64 !== undefined
          ? Buffer.from(request.body_base64, 'base64')
          : Buffer.from(request.body ?? '', 'utf8'),
    };
    const verify = compileVerifier({
      provider: input.provider,
      secrets: input.secrets.map((value) => ({ value })),
      ...(input.publicKey === undefined ? {} : { publicKey: input.publicKey }),
    });
    const checkFreshness = input.nowSeconds !== undefined;
    const result = verify(raw, checkFreshness ? (input.nowSeconds as number) * 1000 : 0, { checkFreshness });
    if (!result.ok) return { valid: false, reason: result.reason };
    return {
      valid: true,
      detail: checkFreshness ? result.detail : `${result.detail} (freshness not checked)`,
    };
  } catch (error) {
    if (error instanceof HookyardError) return { valid: false, reason: error.detail };
    throw error;
  }
}
