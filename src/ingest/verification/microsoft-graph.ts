import { constantTimeEqualSecret } from './constant-time.ts';
import { noLiveSecretReason, type VerifierKeys } from './generic-verifier.ts';
import { parseJsonBody } from './json-body.ts';
import { compileSecrets, isLive } from './secrets.ts';
import { rejected, type VerifyFn, verified } from './verify-result.ts';

/**
 * Microsoft Graph change notifications carry no header signature: each notification in `value[]`
 * repeats the `clientState` set at subscription time, and every one must equal a live secret
 * (one forged item in a batch must not ride along with a genuine one).
 */
export function compileMicrosoftGraphVerifier(keys: VerifierKeys): VerifyFn {
  const secrets = compileSecrets(keys.secrets, 'utf8');
  return (req, nowMs) => {
    const body = parseJsonBody(req.body);
    const value =
      body !== null && typeof body === 'object' ? (body as Record<string, unknown>).value : undefined;
    if (!Array.isArray(value) || value.length === 0) return rejected('body has no notifications in value[]');
    if (!secrets.some((s) => isLive(s, nowMs))) return rejected(noLiveSecretReason(secrets));
    for (const [i, item] of value.entries()) {
      const clientState =
        item !== null && typeof item === 'object' ? (item as Record<string, unknown>).clientState : undefined;
      if (typeof clientState !== 'string') return rejected(`notification ${i} has no clientState`);
      let matched = false;
      for (const secret of secrets) {
        if (isLive(secret, nowMs) && constantTimeEqualSecret(clientState, secret.key)) matched = true;
      }
      if (!matched) return rejected(`clientState of notification ${i} did not match`);
    }
    return verified(`clientState matched in ${value.length} notification${value.length === 1 ? '' : 's'}`);
  };
}
