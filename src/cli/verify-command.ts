import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Config, loadConfig } from '../config.ts';
import { HookyardError } from '../domain/errors.ts';
import { type EventId, isId, type ProjectId } from '../domain/ids.ts';
import { compileSource } from '../ingest/compiled-source.ts';
import { compileVerifier } from '../ingest/verification/compile-verifier.ts';
import { type CapturedRequest, verifyCapturedRequest } from '../ingest/verification/offline-verify.ts';
import { getProviderPreset, PROVIDER_NAMES } from '../ingest/verification/provider-presets.ts';
import type { RawRequest } from '../ingest/verification/raw-request.ts';
import { createSecretBox, loadMasterKeys } from '../security/secret-box.ts';
import type { InboundEventRecord } from '../store/inbound-store.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import type { CliCommand } from './cli-command.ts';

export const VERIFY_HELP = `Usage: hookyard verify --provider NAME (--secret S)… [--public-key K] --request FILE [--now UNIXSECONDS | --no-freshness]
       hookyard verify --event evt_… [--project prj_…] [--now UNIXSECONDS | --no-freshness] [store options]

Checks one webhook request offline, with exactly the verifier the server uses, and prints
"valid (…)" or "invalid: REASON".

A captured request (--request):
  --provider NAME     one of: ${PROVIDER_NAMES.join(', ')}
  --secret S          a signing secret; repeat for several, in the provider's order (Box: primary, secondary)
  --public-key K      the verification key for Ed25519 / ECDSA providers (discord, sendgrid, standard-webhooks v1a)
  --request FILE      JSON { method, url, headers, body } or { …, body_base64 }; url is the URL the provider called
  --now SECONDS       the clock for timestamp checks (default: now, as the server would judge it)
  --no-freshness      skip the timestamp tolerance check (for old captures)

A stored inbound event (--event), checked again with its source's current settings and secrets:
  --event evt_…       the event id (GET /api/v1/projects/{id}/events lists them)
  --project prj_…     its project (default: looked up)
  --now SECONDS       the clock for timestamp checks (default: when the event was received)
  --no-freshness      skip the timestamp tolerance check
  Store options as for "hookyard start": --data-dir, --database-url, --master-key, --public-base-url, --config.

Exit status: 0 valid, 1 invalid, 2 bad usage (unknown provider, unreadable file, missing option,
unknown event).`;

class UsageError extends Error {}

function usage(message: string): never {
  throw new UsageError(message);
}

function parseNow(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) usage('--now must be a unix time in seconds.');
  return Number(raw);
}

function readCapture(file: string): CapturedRequest {
  let captured: unknown;
  try {
    captured = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    usage(`cannot read ${file}: ${(err as Error).message}`);
  }
  const c = captured as CapturedRequest | null;
  if (!c || typeof c.method !== 'string' || typeof c.url !== 'string' || typeof c.headers !== 'object') {
    usage('the request file must be JSON { method, url, headers, body | body_base64 }.');
  }
  return c;
}

export const verifyCommand: CliCommand = async (args, out) => {
  try {
    const { values } = parseArgs({
      args,
      options: {
        provider: { type: 'string' },
        secret: { type: 'string', multiple: true },
        'public-key': { type: 'string' },
        request: { type: 'string' },
        event: { type: 'string' },
        project: { type: 'string' },
        now: { type: 'string' },
        'no-freshness': { type: 'boolean' },
        'data-dir': { type: 'string' },
        'database-url': { type: 'string' },
        'master-key': { type: 'string' },
        'public-base-url': { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      out.log(VERIFY_HELP);
      return 0;
    }
    const now = parseNow(values.now);
    if (values.event !== undefined) {
      if (values.provider !== undefined || values.request !== undefined || values.secret !== undefined) {
        usage(
          "--event checks a stored event with its source's settings; give it without --provider, --request or --secret.",
        );
      }
      const flags: Partial<Record<keyof Config, string>> = {};
      if (values['data-dir'] !== undefined) flags.dataDir = values['data-dir'];
      if (values['database-url'] !== undefined) flags.databaseUrl = values['database-url'];
      if (values['master-key'] !== undefined) flags.masterKey = values['master-key'];
      if (values['public-base-url'] !== undefined) flags.publicBaseUrl = values['public-base-url'];
      const config = loadConfig({ flags, ...(values.config ? { file: values.config } : {}) });
      const result = await verifyStoredEvent(config, {
        eventId: values.event,
        projectId: values.project,
        nowSeconds: now,
        checkFreshness: !values['no-freshness'],
      });
      out.log(result.valid ? `valid (${result.detail})` : `invalid: ${result.reason}`);
      return result.valid ? 0 : 1;
    }
    if (!values.provider || !values.request) usage('--provider and --request (or --event) are required.');
    if (!PROVIDER_NAMES.includes(values.provider)) {
      usage(`--provider "${values.provider}" is not known; expected one of: ${PROVIDER_NAMES.join(', ')}.`);
    }
    const secrets = values.secret ?? [];
    const publicKey = values['public-key'];
    const needs = getProviderPreset(values.provider)?.keyMaterial;
    if (needs === 'secrets' && secrets.length === 0) usage(`${values.provider} needs --secret.`);
    if (needs === 'public-key' && publicKey === undefined) usage(`${values.provider} needs --public-key.`);
    if (needs === 'secrets-or-public-key' && secrets.length === 0 && publicKey === undefined) {
      usage(`${values.provider} needs --secret or --public-key.`);
    }
    // Keys that cannot make a verifier are a usage error, not an invalid request.
    try {
      compileVerifier({
        provider: values.provider,
        secrets: secrets.map((value) => ({ value })),
        ...(publicKey === undefined ? {} : { publicKey }),
      });
    } catch (err) {
      if (err instanceof HookyardError) usage(err.detail);
      throw err;
    }
    const captured = readCapture(values.request);
    let nowSeconds = now;
    if (nowSeconds === undefined && !values['no-freshness']) nowSeconds = Math.floor(Date.now() / 1000);
    const result = verifyCapturedRequest({
      provider: values.provider,
      secrets,
      ...(publicKey ? { publicKey } : {}),
      request: captured,
      ...(nowSeconds === undefined ? {} : { nowSeconds }),
    });
    if (result.valid) {
      out.log(`valid (${result.detail})`);
      return 0;
    }
    out.log(`invalid: ${result.reason}`);
    return 1;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      out.error(`hookyard verify: ${(err as Error).message}`);
      out.error('Run "hookyard verify --help" for the options.');
      return 2;
    }
    throw err;
  }
};

async function findEvent(
  store: Store,
  eventId: EventId,
  projectId: string | undefined,
): Promise<InboundEventRecord | null> {
  if (projectId !== undefined) {
    if (!isId('project', projectId)) usage(`--project "${projectId}" is not a project id (prj_…).`);
    return store.getInboundEvent(projectId, eventId);
  }
  let after: string | undefined;
  for (;;) {
    const page = await store.listProjects({ limit: 200, ...(after ? { after } : {}) });
    for (const project of page.items) {
      const event = await store.getInboundEvent(project.id as ProjectId, eventId);
      if (event) return event;
    }
    if (page.nextCursor === null) return null;
    after = page.nextCursor;
  }
}

/**
 * Checks a stored event again: its stored method, URL, headers and body, with its source's
 * current verifier and secrets, judged by default as of when it was received.
 */
async function verifyStoredEvent(
  config: Config,
  input: {
    eventId: string;
    projectId: string | undefined;
    nowSeconds: number | undefined;
    checkFreshness: boolean;
  },
): Promise<{ valid: true; detail: string } | { valid: false; reason: string }> {
  if (!isId('event', input.eventId)) usage(`--event "${input.eventId}" is not an event id (evt_…).`);
  if (config.databaseUrl === '' && !existsSync(path.join(config.dataDir, 'hookyard.db'))) {
    usage(`no Hookyard database in ${config.dataDir}; give --data-dir or --database-url.`);
  }
  if (config.masterKey === '' && !existsSync(path.join(config.dataDir, 'master.key'))) {
    usage(`no master key in ${config.dataDir} and none given; give --master-key (HOOKYARD_MASTER_KEY).`);
  }
  const store = openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const event = await findEvent(store, input.eventId as EventId, input.projectId);
    if (!event)
      usage(`event ${input.eventId} was not found${input.projectId ? ` in ${input.projectId}` : ''}.`);
    const record = await store.getSource(event.projectId, event.sourceId);
    if (!record) usage(`the source of ${event.id} (${event.sourceId}) no longer exists.`);
    const source = compileSource(record, createSecretBox(loadMasterKeys(config.masterKey, config.dataDir)));
    const q = event.url.indexOf('?');
    const request: RawRequest = {
      method: event.method,
      url: source.publicUrl
        ? source.publicUrl + (q === -1 ? '' : event.url.slice(q))
        : config.publicBaseUrl + event.url,
      headers: event.headers,
      body: event.body,
    };
    const nowMs = input.nowSeconds !== undefined ? input.nowSeconds * 1000 : event.receivedAtMs;
    const result = source.verify(request, nowMs, { checkFreshness: input.checkFreshness });
    if (!result.ok) return { valid: false, reason: result.reason };
    return {
      valid: true,
      detail: input.checkFreshness ? result.detail : `${result.detail} (freshness not checked)`,
    };
  } finally {
    await store.close();
  }
}
