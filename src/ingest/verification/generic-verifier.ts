import { createHmac, type KeyObject, verify as verifySignature } from 'node:crypto';
import { constantTimeEqual, constantTimeEqualSecret } from './constant-time.ts';
import { parseJsonBody } from './json-body.ts';
import { type CompiledJsonPath, compileJsonPath } from './json-path.ts';
import { parseEcdsaP256PublicKey, parseEd25519PublicKey } from './public-keys.ts';
import { headerValue, queryParams, type RawRequest } from './raw-request.ts';
import { type CompiledSecret, compileSecrets, describeSecret, isLive, type Secret } from './secrets.ts';
import { decodeSignature } from './signature-encoding.ts';
import {
  describeSignatureEntry,
  MAX_SIGNATURES_PER_REQUEST,
  type ParsedSignatureHeader,
  parseSignatureHeader,
} from './signature-header.ts';
import { compileSignedContent, MAX_SIGNED_HEAD_BYTES, renderSignedContent } from './signed-content.ts';
import { isFresh, parseTimestampMs, toleranceReason } from './timestamp.ts';
import type {
  ApiKeyScheme,
  SignatureFormat,
  SignedVerificationScheme,
  TimestampRule,
  TokenScheme,
  VerificationScheme,
} from './verification-scheme.ts';
import { rejected, type VerifyFn, type VerifyResult, verified } from './verify-result.ts';

/** The key material a verifier is compiled with. */
export interface VerifierKeys {
  secrets?: readonly Secret[];
  publicKey?: string;
}

/** Checks candidate signatures against the signed content; one per scheme type. */
type SignatureCheck = (
  content: readonly Buffer[],
  signatures: readonly string[],
  nowMs: number,
) => VerifyResult;

/**
 * Compiles a validated scheme into a VerifyFn. Keys are decoded, public keys parsed and the template
 * compiled here, once; the returned function does only per-request work.
 */
export function compileScheme(scheme: VerificationScheme, keys: VerifierKeys): VerifyFn {
  switch (scheme.type) {
    case 'none':
      return () => verified('not verified: the source chose scheme none');
    case 'basic':
      return compileBasic(compileSecrets(keys.secrets, 'utf8'));
    case 'api-key':
      return compileApiKey(scheme, compileSecrets(keys.secrets, 'utf8'));
    case 'token':
      return compileToken(scheme, compileSecrets(keys.secrets, 'utf8'));
    case 'hmac':
    case 'ed25519':
    case 'ecdsa-p256':
      return compileSigned(scheme, keys);
  }
}

function compileSigned(scheme: SignedVerificationScheme, keys: VerifierKeys): VerifyFn {
  const template = compileSignedContent(scheme.signedContent);
  const format = scheme.signature;
  const entry = describeSignatureEntry(format);
  const rule = scheme.timestamp;
  const timestampPath = rule?.jsonPath === undefined ? undefined : compileJsonPath(rule.jsonPath);
  const check = compileSignatureCheck(scheme, keys);

  return (req, nowMs, options) => {
    const parsed = parseSignatureHeader(req, format);
    if (!parsed) return rejected(`missing header ${format.header}`);
    if (parsed.signatures.length === 0) {
      return rejected(`no ${entry === '' ? '' : `${entry} `}signature in header ${format.header}`);
    }
    if (parsed.signatures.length > MAX_SIGNATURES_PER_REQUEST) {
      return rejected(`too many signatures in header ${format.header} (max ${MAX_SIGNATURES_PER_REQUEST})`);
    }
    let timestampText: string | undefined;
    if (rule) {
      const found = readTimestamp(rule, format, req, parsed, timestampPath);
      if (found.text === undefined) return rejected(`missing timestamp (${found.where})`);
      timestampText = found.text;
      // Skipping freshness also skips the unit check: a captured request verified later only needs
      // the timestamp text, which is what was signed.
      if (options?.checkFreshness !== false) {
        const ms = parseTimestampMs(timestampText, rule.unit);
        if (ms === undefined) return rejected(`bad timestamp in ${found.where} (expected ${rule.unit})`);
        if (!isFresh(ms, rule.unit, nowMs, rule.toleranceSeconds, rule.direction)) {
          return rejected(toleranceReason(rule.toleranceSeconds));
        }
      }
    }
    const content = renderSignedContent(template, req, timestampText);
    if ('missingHeader' in content) return rejected(`missing header ${content.missingHeader}`);
    if ('tooLarge' in content) {
      return rejected(`signed content besides the body is larger than ${MAX_SIGNED_HEAD_BYTES} bytes`);
    }
    return check(content.chunks, parsed.signatures, nowMs);
  };
}

function readTimestamp(
  rule: TimestampRule,
  format: SignatureFormat,
  req: RawRequest,
  parsed: ParsedSignatureHeader,
  path: CompiledJsonPath | undefined,
): { text: string | undefined; where: string } {
  if (rule.signatureKey !== undefined) {
    const value = parsed.pairs.get(rule.signatureKey);
    return {
      text: value === '' ? undefined : value,
      where: `${rule.signatureKey} in header ${format.header}`,
    };
  }
  // The body is signed and the header is not, so a body timestamp is the one a replay cannot change.
  if (path) {
    const value = path.read(parseJsonBody(req.body));
    const where = `body ${path.source}`;
    if (typeof value === 'string' && value !== '') return { text: value, where };
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
      return { text: String(value), where };
  }
  if (rule.header !== undefined) {
    const value = headerValue(req, rule.header);
    return { text: value === '' ? undefined : value, where: `header ${rule.header}` };
  }
  return { text: undefined, where: `body ${path?.source ?? ''}` };
}

function compileSignatureCheck(scheme: SignedVerificationScheme, keys: VerifierKeys): SignatureCheck {
  switch (scheme.type) {
    case 'hmac':
      return compileHmacCheck(
        scheme.algorithm,
        scheme.signature.encoding,
        compileSecrets(keys.secrets, scheme.secretEncoding),
      );
    case 'ed25519': {
      const key = keys.publicKey === undefined ? undefined : parseEd25519PublicKey(keys.publicKey);
      return compileAsymmetricCheck(key, null, scheme.signature);
    }
    case 'ecdsa-p256': {
      const key = keys.publicKey === undefined ? undefined : parseEcdsaP256PublicKey(keys.publicKey);
      return compileAsymmetricCheck(key, 'sha256', scheme.signature);
    }
  }
}

/** Reason when no secret could be tried, distinguishing "never configured" from "all rotated out". */
export function noLiveSecretReason(secrets: readonly CompiledSecret[]): string {
  return secrets.length === 0 ? 'no secret configured' : 'no live secret (all expired)';
}

function compileHmacCheck(
  algorithm: string,
  encoding: 'hex' | 'base64',
  secrets: readonly CompiledSecret[],
): SignatureCheck {
  // What a match says, per secret: made once, not per request.
  const matched = secrets.map((secret) =>
    Object.freeze(verified(`signature matched with ${describeSecret(secret, secrets.length)}`)),
  );
  return (content, signatures, nowMs) => {
    // Compared as encoded text, as the providers' own SDKs do: exact bytes, no lenient decoding.
    const presented = signatures.map((s) => Buffer.from(s, 'utf8'));
    let tried = 0;
    for (let i = 0; i < secrets.length; i++) {
      const secret = secrets[i] as CompiledSecret;
      if (!isLive(secret, nowMs)) continue;
      tried++;
      const hmac = createHmac(algorithm, secret.key);
      for (const chunk of content) hmac.update(chunk);
      const expected = Buffer.from(hmac.digest(encoding), 'utf8');
      for (const candidate of presented) {
        if (constantTimeEqual(candidate, expected)) return matched[i] as VerifyResult;
      }
    }
    return tried === 0 ? rejected(noLiveSecretReason(secrets)) : rejected('no signature matched');
  };
}

function compileAsymmetricCheck(
  key: KeyObject | undefined,
  digest: 'sha256' | null,
  format: SignatureFormat,
): SignatureCheck {
  return (content, signatures) => {
    if (!key) return rejected('no public key configured');
    const data = content.length === 1 ? (content[0] as Buffer) : Buffer.concat(content);
    for (const text of signatures) {
      const signature = decodeSignature(text, format.encoding);
      if (!signature) continue;
      try {
        const ok =
          digest === null
            ? verifySignature(null, data, key, signature)
            : verifySignature(digest, data, { key, dsaEncoding: 'der' }, signature);
        if (ok) return verified('signature matched with the public key');
      } catch {
        // A malformed signature (wrong length, bad DER) is simply not a match.
      }
    }
    return rejected('no signature matched');
  };
}

function matchSecret(
  presented: string,
  secrets: readonly CompiledSecret[],
  nowMs: number,
  what: string,
): VerifyResult {
  let tried = 0;
  for (const secret of secrets) {
    if (!isLive(secret, nowMs)) continue;
    tried++;
    if (constantTimeEqualSecret(presented, secret.key)) {
      return verified(`${what} matched ${describeSecret(secret, secrets.length)}`);
    }
  }
  return tried === 0 ? rejected(noLiveSecretReason(secrets)) : rejected(`${what} did not match`);
}

function compileApiKey(scheme: ApiKeyScheme, secrets: readonly CompiledSecret[]): VerifyFn {
  return (req, nowMs) => {
    const value = headerValue(req, scheme.header);
    if (value === undefined) return rejected(`missing header ${scheme.header}`);
    let presented = value;
    if (scheme.prefix !== undefined) {
      if (!value.startsWith(scheme.prefix))
        return rejected(`header ${scheme.header} does not start with "${scheme.prefix}"`);
      presented = value.slice(scheme.prefix.length);
    }
    return matchSecret(presented, secrets, nowMs, `header ${scheme.header}`);
  };
}

function compileBasic(secrets: readonly CompiledSecret[]): VerifyFn {
  return (req, nowMs) => {
    const value = headerValue(req, 'authorization');
    if (value === undefined) return rejected('missing header authorization');
    const match = /^Basic[ ]+([A-Za-z0-9+/]+=*)\s*$/i.exec(value);
    if (!match?.[1]) return rejected('authorization is not Basic credentials');
    return matchSecret(Buffer.from(match[1], 'base64').toString('utf8'), secrets, nowMs, 'basic credentials');
  };
}

function compileToken(scheme: TokenScheme, secrets: readonly CompiledSecret[]): VerifyFn {
  const path = scheme.jsonPath === undefined ? undefined : compileJsonPath(scheme.jsonPath);
  const where = scheme.query !== undefined ? `query parameter ${scheme.query}` : `body ${scheme.jsonPath}`;
  return (req, nowMs) => {
    const value =
      scheme.query !== undefined ? queryParams(req).get(scheme.query) : path?.read(parseJsonBody(req.body));
    if (typeof value !== 'string' || value === '') return rejected(`missing token (${where})`);
    return matchSecret(value, secrets, nowMs, `token in ${where}`);
  };
}
