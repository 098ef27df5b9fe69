import { createHash, createHmac } from 'node:crypto';
import { parse as parseQueryString, stringify as stringifyQueryString } from 'node:querystring';
import { constantTimeEqual } from './constant-time.ts';
import { noLiveSecretReason, type VerifierKeys } from './generic-verifier.ts';
import { headerValue, type RawRequest } from './raw-request.ts';
import { compileSecrets, describeSecret, isLive } from './secrets.ts';
import { rejected, type VerifyFn, verified } from './verify-result.ts';

const SIGNATURE_HEADER = 'x-twilio-signature';

/**
 * Twilio: base64 HMAC-SHA1(auth token, URL + sorted form params), or for JSON bodies the URL alone
 * with `bodySHA256=<hex sha256(body)>` in its query. Mirrors twilio-node 5.x `validateRequest`,
 * including its leniency: Twilio's back end is inconsistent about the port and about how the query
 * is encoded, so the SDK (and we) accept any of four URL forms.
 */
export function compileTwilioVerifier(keys: VerifierKeys): VerifyFn {
  const secrets = compileSecrets(keys.secrets, 'utf8');
  return (req, nowMs) => {
    const header = headerValue(req, SIGNATURE_HEADER);
    if (header === undefined) return rejected(`missing header ${SIGNATURE_HEADER}`);
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return rejected('request url does not parse');
    }
    // twilio-node switches on the text `bodySHA256` anywhere in the URL, so do we.
    const jsonVariant = req.url.includes('bodySHA256');
    const params = jsonVariant ? '' : formParamsString(req);
    const candidates = twilioUrlCandidates(url);
    const presented = Buffer.from(header, 'utf8');
    let tried = 0;
    let matched: string | undefined;
    for (const secret of secrets) {
      if (!isLive(secret, nowMs)) continue;
      tried++;
      for (const candidate of candidates) {
        const expected = createHmac('sha1', secret.key)
          .update(candidate.url + params, 'utf8')
          .digest('base64');
        if (constantTimeEqual(presented, Buffer.from(expected, 'utf8'))) {
          matched = `signature matched over the ${candidate.form} with ${describeSecret(secret, secrets.length)}`;
          break;
        }
      }
      if (matched) break;
    }
    if (tried === 0) return rejected(noLiveSecretReason(secrets));
    if (!matched) return rejected('no signature matched');
    if (jsonVariant) {
      const bodyHash = createHash('sha256').update(req.body).digest('hex');
      if (
        !constantTimeEqual(
          Buffer.from(url.searchParams.get('bodySHA256') ?? '', 'utf8'),
          Buffer.from(bodyHash),
        )
      ) {
        return rejected('bodySHA256 does not match the body');
      }
      return verified(`${matched}; bodySHA256 matched`);
    }
    return verified(matched);
  };
}

/** The URL forms twilio-node tries, in its order, without duplicates. */
export function twilioUrlCandidates(url: URL): { form: string; url: string }[] {
  const withoutPort = removePort(url);
  const withPort = addPort(url);
  const forms = [
    { form: 'url without port', url: withoutPort },
    { form: 'url with port', url: withPort },
    { form: 'url without port, legacy query encoding', url: withLegacyQuerystring(withoutPort) },
    { form: 'url with port, legacy query encoding', url: withLegacyQuerystring(withPort) },
  ];
  const seen = new Set<string>();
  return forms.filter((f) => {
    if (seen.has(f.url)) return false;
    seen.add(f.url);
    return true;
  });
}

function removePort(url: URL): string {
  const copy = new URL(url.toString());
  copy.port = '';
  return copy.toString();
}

/** twilio-node's buildUrlWithStandardPort: WHATWG URL drops default ports, so it is spelled out. */
function addPort(url: URL): string {
  if (url.port) return url.toString();
  const port = url.protocol === 'https:' ? ':443' : ':80';
  const userinfo =
    url.username || url.password ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
  return `${url.protocol}//${userinfo}${url.host}${port}${url.pathname}${url.search}${url.hash}`;
}

/**
 * Re-encodes the query with node:querystring, as twilio-node does. `maxKeys: 0` lifts the parser's
 * 1,000-key cap: with the cap, padding a signed URL with empty entries and one extra parameter
 * would normalise back to the signed URL and let the extra parameter through unsigned.
 */
function withLegacyQuerystring(urlText: string): string {
  const url = new URL(urlText);
  if (!url.search) return urlText;
  const qs = stringifyQueryString(parseQueryString(url.search.slice(1), '&', '=', { maxKeys: 0 }));
  url.search = '';
  return `${url.toString()}?${qs}`;
}

/**
 * The form parameters as twilio-node concatenates them: keys sorted, each `key + value`; a repeated
 * key's values de-duplicated and sorted. Only form bodies carry parameters; JSON Twilio requests use
 * the bodySHA256 variant instead.
 */
function formParamsString(req: RawRequest): string {
  if (req.body.length === 0) return '';
  const contentType = headerValue(req, 'content-type');
  if (contentType !== undefined && !contentType.toLowerCase().includes('application/x-www-form-urlencoded')) {
    return '';
  }
  const params = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(req.body.toString('utf8'))) {
    const values = params.get(key);
    if (values) values.push(value);
    else params.set(key, [value]);
  }
  let data = '';
  for (const key of [...params.keys()].sort()) {
    const values = params.get(key) ?? [];
    const ordered = values.length === 1 ? values : [...new Set(values)].sort();
    for (const value of ordered) data += key + value;
  }
  return data;
}
