import { createHmac } from 'node:crypto';
import { constantTimeEqual } from './constant-time.ts';
import { noLiveSecretReason, type VerifierKeys } from './generic-verifier.ts';
import { headerValue } from './raw-request.ts';
import { compileSecrets, isLive } from './secrets.ts';
import { isFresh, parseTimestampMs, toleranceReason } from './timestamp.ts';
import { rejected, type VerifyFn, verified } from './verify-result.ts';

export const BOX_MAX_AGE_SECONDS = 600;
const KEY_ROLES = ['primary', 'secondary'] as const;

/**
 * Box: base64 HMAC-SHA256(key, body bytes + box-delivery-timestamp bytes). Unlike rotation
 * elsewhere, Box's two keys have roles: the primary signature is checked with the primary key and
 * the secondary with the secondary key (secrets[0] and secrets[1]); either match suffices. The
 * version must be 1 and the algorithm HmacSHA256; a message older than 10 min is rejected and a
 * future timestamp is accepted, as box-node-sdk does.
 */
export function compileBoxVerifier(keys: VerifierKeys, maxAgeSeconds = BOX_MAX_AGE_SECONDS): VerifyFn {
  const secrets = compileSecrets(keys.secrets, 'utf8').slice(0, KEY_ROLES.length);
  return (req, nowMs, options) => {
    if (headerValue(req, 'box-signature-version') !== '1')
      return rejected('unsupported box-signature-version (expected 1)');
    if (headerValue(req, 'box-signature-algorithm') !== 'HmacSHA256') {
      return rejected('unsupported box-signature-algorithm (expected HmacSHA256)');
    }
    const timestamp = headerValue(req, 'box-delivery-timestamp');
    if (timestamp === undefined || timestamp === '') return rejected('missing header box-delivery-timestamp');
    if (options?.checkFreshness !== false) {
      const ms = parseTimestampMs(timestamp, 'rfc3339');
      if (ms === undefined)
        return rejected('bad timestamp in header box-delivery-timestamp (expected rfc3339)');
      if (!isFresh(ms, 'rfc3339', nowMs, maxAgeSeconds, 'past'))
        return rejected(toleranceReason(maxAgeSeconds));
    }
    let tried = 0;
    let sawHeader = false;
    for (const secret of secrets) {
      if (!isLive(secret, nowMs)) continue;
      tried++;
      const role = KEY_ROLES[secret.index] ?? 'primary';
      const presented = headerValue(req, `box-signature-${role}`);
      if (presented === undefined) continue;
      sawHeader = true;
      const expected = createHmac('sha256', secret.key)
        .update(req.body)
        .update(timestamp, 'utf8')
        .digest('base64');
      if (constantTimeEqual(Buffer.from(presented, 'utf8'), Buffer.from(expected, 'utf8'))) {
        return verified(`${role} signature matched with the ${role} key`);
      }
    }
    if (tried === 0) return rejected(noLiveSecretReason(secrets));
    if (!sawHeader) return rejected('missing header box-signature-primary');
    return rejected('no signature matched');
  };
}
