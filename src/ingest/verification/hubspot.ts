import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual } from './constant-time.ts';
import { noLiveSecretReason, type VerifierKeys } from './generic-verifier.ts';
import { headerValue } from './raw-request.ts';
import { compileSecrets, describeSecret, isLive } from './secrets.ts';
import { isFresh, parseTimestampMs, toleranceReason } from './timestamp.ts';
import { rejected, type VerifyFn, verified } from './verify-result.ts';

export const HUBSPOT_V3_TOLERANCE_SECONDS = 300;

// HubSpot's v3 docs list these escapes to decode in the URI before signing. The official SDKs sign
// the URI as given, so both forms are tried (the decoded one only when it differs).
const HUBSPOT_DECODES: readonly [string, string][] = [
  ['%3A', ':'],
  ['%2F', '/'],
  ['%3F', '?'],
  ['%40', '@'],
  ['%21', '!'],
  ['%24', '$'],
  ['%27', "'"],
  ['%28', '('],
  ['%29', ')'],
  ['%2A', '*'],
  ['%2C', ','],
  ['%3B', ';'],
];

/**
 * HubSpot, three versions chosen by the request's headers:
 * v1 `X-HubSpot-Signature` = hex SHA-256(secret + body), a plain hash, not an HMAC;
 * v2 the same over secret + method + URL + body;
 * v3 `X-HubSpot-Signature-v3` = base64 HMAC-SHA256(secret, method + URL + body + timestamp), the
 * timestamp in milliseconds, rejected when older than 5 min (one-sided, as hubspot-api-nodejs).
 */
export function compileHubSpotVerifier(
  keys: VerifierKeys,
  toleranceSeconds = HUBSPOT_V3_TOLERANCE_SECONDS,
): VerifyFn {
  const secrets = compileSecrets(keys.secrets, 'utf8');
  return (req, nowMs, options) => {
    const method = req.method.toUpperCase();
    const v3 = headerValue(req, 'x-hubspot-signature-v3');
    let version: 'v1' | 'v2' | 'v3';
    let presented: string;
    let timestamp = '';
    if (v3 !== undefined) {
      version = 'v3';
      presented = v3;
      const ts = headerValue(req, 'x-hubspot-request-timestamp');
      if (ts === undefined || ts === '') return rejected('missing header x-hubspot-request-timestamp');
      timestamp = ts;
      if (options?.checkFreshness !== false) {
        const ms = parseTimestampMs(ts, 'milliseconds');
        if (ms === undefined)
          return rejected('bad timestamp in header x-hubspot-request-timestamp (expected milliseconds)');
        if (!isFresh(ms, 'milliseconds', nowMs, toleranceSeconds, 'past'))
          return rejected(toleranceReason(toleranceSeconds));
      }
    } else {
      const legacy = headerValue(req, 'x-hubspot-signature');
      if (legacy === undefined) return rejected('missing header x-hubspot-signature-v3');
      presented = legacy;
      // hubspot-api-nodejs defaults the version to v1 when the header is absent.
      const declared = (headerValue(req, 'x-hubspot-signature-version') ?? 'v1').toLowerCase();
      if (declared !== 'v1' && declared !== 'v2')
        return rejected(`unsupported x-hubspot-signature-version ${declared}`);
      version = declared;
    }
    const urls = version === 'v1' ? [''] : hubSpotUrlForms(req.url);
    const given = Buffer.from(presented, 'utf8');
    let tried = 0;
    for (const secret of secrets) {
      if (!isLive(secret, nowMs)) continue;
      tried++;
      for (const url of urls) {
        const expected =
          version === 'v3'
            ? createHmac('sha256', secret.key)
                .update(method + url, 'utf8')
                .update(req.body)
                .update(timestamp, 'utf8')
                .digest('base64')
            : createHash('sha256')
                .update(secret.key)
                .update(version === 'v2' ? method + url : '', 'utf8')
                .update(req.body)
                .digest('hex');
        if (constantTimeEqual(given, Buffer.from(expected, 'utf8'))) {
          return verified(`${version} signature matched with ${describeSecret(secret, secrets.length)}`);
        }
      }
    }
    return tried === 0 ? rejected(noLiveSecretReason(secrets)) : rejected(`no ${version} signature matched`);
  };
}

function hubSpotUrlForms(url: string): string[] {
  let decoded = url;
  for (const [from, to] of HUBSPOT_DECODES) {
    decoded = decoded.replaceAll(from, to).replaceAll(from.toLowerCase(), to);
  }
  return decoded === url ? [url] : [url, decoded];
}
