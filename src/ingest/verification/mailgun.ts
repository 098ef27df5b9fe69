import { createHmac } from 'node:crypto';
import { constantTimeEqual } from './constant-time.ts';
import { noLiveSecretReason, type VerifierKeys } from './generic-verifier.ts';
import { parseJsonBody } from './json-body.ts';
import { headerValue, type RawRequest } from './raw-request.ts';
import { compileSecrets, describeSecret, isLive } from './secrets.ts';
import { isFresh, parseTimestampMs, toleranceReason } from './timestamp.ts';
import { rejected, type VerifyFn, verified } from './verify-result.ts';

export const MAILGUN_TOLERANCE_SECONDS = 300;

interface MailgunFields {
  timestamp: string;
  token: string;
  signature: string;
}

/**
 * Mailgun puts its signature in the body, not a header: JSON webhooks carry
 * `{"signature":{"timestamp","token","signature"}}`, legacy ones the same three as form fields.
 * signature = hex HMAC-SHA256(webhook signing key, timestamp + token). Mailgun recommends an age
 * check on the timestamp (and caching tokens, which needs a store and is left to ingest dedupe).
 */
export function compileMailgunVerifier(
  keys: VerifierKeys,
  toleranceSeconds = MAILGUN_TOLERANCE_SECONDS,
): VerifyFn {
  const secrets = compileSecrets(keys.secrets, 'utf8');
  return (req, nowMs, options) => {
    const fields = readMailgunFields(req);
    if (!fields) return rejected('missing signature fields in body (timestamp, token, signature)');
    if (options?.checkFreshness !== false) {
      const ms = parseTimestampMs(fields.timestamp, 'seconds');
      if (ms === undefined) return rejected('bad timestamp in body signature.timestamp (expected seconds)');
      if (!isFresh(ms, 'seconds', nowMs, toleranceSeconds, 'both'))
        return rejected(toleranceReason(toleranceSeconds));
    }
    const presented = Buffer.from(fields.signature, 'utf8');
    let tried = 0;
    for (const secret of secrets) {
      if (!isLive(secret, nowMs)) continue;
      tried++;
      const expected = createHmac('sha256', secret.key)
        .update(fields.timestamp + fields.token, 'utf8')
        .digest('hex');
      if (constantTimeEqual(presented, Buffer.from(expected, 'utf8'))) {
        return verified(`signature matched with ${describeSecret(secret, secrets.length)}`);
      }
    }
    return tried === 0 ? rejected(noLiveSecretReason(secrets)) : rejected('no signature matched');
  };
}

function readMailgunFields(req: RawRequest): MailgunFields | undefined {
  const contentType = headerValue(req, 'content-type')?.toLowerCase() ?? '';
  let source: Record<string, unknown> | undefined;
  if (contentType.includes('application/x-www-form-urlencoded')) {
    source = Object.fromEntries(new URLSearchParams(req.body.toString('utf8')));
  } else {
    const json = parseJsonBody(req.body);
    const signature =
      json !== null && typeof json === 'object' ? (json as Record<string, unknown>).signature : undefined;
    if (signature !== null && typeof signature === 'object') source = signature as Record<string, unknown>;
  }
  if (!source) return undefined;
  const { timestamp, token, signature } = source;
  if (typeof timestamp !== 'string' || typeof token !== 'string' || typeof signature !== 'string')
    return undefined;
  if (timestamp === '' || token === '' || signature === '') return undefined;
  return { timestamp, token, signature };
}
