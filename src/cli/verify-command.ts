import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type CapturedRequest, verifyCapturedRequest } from '../ingest/verification/offline-verify.ts';
import { PROVIDER_NAMES } from '../ingest/verification/provider-presets.ts';
import type { CliCommand } from './cli-command.ts';

export const VERIFY_HELP = `Usage: hookyard verify --provider NAME (--secret S)… [--public-key K] --request FILE [--now UNIXSECONDS | --no-freshness]

Checks one captured webhook request offline, with exactly the verifier the server uses, and prints
"valid" or "invalid: REASON" (exit 0 or 1; 2 for bad usage).

  --provider NAME     one of: ${PROVIDER_NAMES.join(', ')}
  --secret S          a signing secret; repeat for several, in the provider's order (Box: primary, secondary)
  --public-key K      the verification key for Ed25519 / ECDSA providers (discord, sendgrid, standard-webhooks v1a)
  --request FILE      JSON { method, url, headers, body } or { …, body_base64 }; url is the URL the provider called
  --now SECONDS       the clock for timestamp checks (default: now, as the server would judge it)
  --no-freshness      skip the timestamp tolerance check (for old captures)`;

export const verifyCommand: CliCommand = async (args, out) => {
  const { values } = parseArgs({
    args,
    options: {
      provider: { type: 'string' },
      secret: { type: 'string', multiple: true },
      'public-key': { type: 'string' },
      request: { type: 'string' },
      now: { type: 'string' },
      'no-freshness': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    out.log(VERIFY_HELP);
    return 0;
  }
  if (!values.provider || !values.request) {
    out.error('hookyard verify: --provider and --request are required.\n');
    out.error(VERIFY_HELP);
    return 2;
  }
  let captured: CapturedRequest;
  try {
    captured = JSON.parse(readFileSync(values.request, 'utf8')) as CapturedRequest;
  } catch (err) {
    out.error(`hookyard verify: cannot read ${values.request}: ${(err as Error).message}`);
    return 2;
  }
  if (
    !captured ||
    typeof captured.method !== 'string' ||
    typeof captured.url !== 'string' ||
    typeof captured.headers !== 'object'
  ) {
    out.error('hookyard verify: the request file must be JSON { method, url, headers, body | body_base64 }.');
    return 2;
  }
  let nowSeconds: number | undefined;
  if (values.now !== undefined) {
    if (!/^\d+$/.test(values.now)) {
      out.error('hookyard verify: --now must be a unix time in seconds.');
      return 2;
    }
    nowSeconds = Number(values.now);
  } else if (!values['no-freshness']) {
    nowSeconds = Math.floor(Date.now() / 1000);
  }
  const result = verifyCapturedRequest({
    provider: values.provider,
    secrets: values.secret ?? [],
    ...(values['public-key'] ? { publicKey: values['public-key'] } : {}),
    request: captured,
    ...(nowSeconds === undefined ? {} : { nowSeconds }),
  });
  if (result.valid) {
    out.log(`valid (${result.detail})`);
    return 0;
  }
  out.log(`invalid: ${result.reason}`);
  return 1;
};
