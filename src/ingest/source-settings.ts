import { HookyardError } from '../domain/errors.ts';
import { HANDSHAKE_KINDS, type HandshakeKind, type HandshakeSettings } from './handshakes/index.ts';
import { compileJsonPath } from './verification/json-path.ts';
import { getProviderPreset, PROVIDER_NAMES } from './verification/provider-presets.ts';
import { parseVerificationScheme } from './verification/scheme-validation.ts';
import type { VerificationScheme } from './verification/verification-scheme.ts';

/**
 * What a source stores besides its secrets: validated once when it is created or updated, so the
 * ingest path never meets a bad setting. Field names are the API's.
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const MAX_MAX_BODY_BYTES = 20 * 1024 * 1024;

/** A value read from a request: a header, or a JSON path into the body. */
export type FieldLocator = { header: string } | { jsonPath: string };

export interface SourceSettings {
  /** A custom scheme when no provider preset is named (or to override nothing: presets are exact). */
  verification?: VerificationScheme;
  handshake?: HandshakeSettings & { kind?: HandshakeKind };
  /** Where the provider event id (dedupe key) is; presets bring their own; default: body SHA-256. */
  dedupe?: FieldLocator;
  /** Where the event type is; presets bring their own. */
  eventType?: FieldLocator;
  /** App-level routing: the value matched against a tenant's provider account id. */
  routing?: FieldLocator;
  toleranceSeconds?: number;
  maxBodyBytes: number;
  /** Reject bodies that are not valid JSON with 400 (default: store them raw, marked). */
  requireJson: boolean;
  /**
   * The exact URL registered with the provider when it differs from the ingest URL (a proxy or
   * rewrite in front of Hookyard). Providers that sign the URL (Twilio, Square, HubSpot v2/v3,
   * Trello) signed this one; the request's query string is appended to it.
   */
  publicUrl?: string;
}

const LOCATOR_HELP = 'expected { "header": "name" } or { "jsonPath": "$.a.b" }';

function locator(value: unknown, field: string): FieldLocator | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${field}: ${LOCATOR_HELP}`);
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v);
  if (keys.length !== 1) throw invalid(`${field}: ${LOCATOR_HELP}`);
  if (typeof v.header === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/.test(v.header)) {
    return { header: v.header.toLowerCase() };
  }
  if (typeof v.jsonPath === 'string') {
    try {
      compileJsonPath(v.jsonPath);
    } catch (err) {
      throw invalid(`${field}.jsonPath: ${(err as Error).message}`);
    }
    return { jsonPath: v.jsonPath };
  }
  throw invalid(`${field}: ${LOCATOR_HELP}`);
}

function invalid(detail: string): HookyardError {
  return new HookyardError('validation_failed', detail);
}

export interface SourceInput {
  provider?: string | null;
  verification?: unknown;
  handshake?: unknown;
  dedupe?: unknown;
  eventType?: unknown;
  routing?: unknown;
  toleranceSeconds?: unknown;
  maxBodyBytes?: unknown;
  requireJson?: unknown;
  publicUrl?: unknown;
}

/** Validates and normalises the settings part of a create/update body; names the field on error. */
export function parseSourceSettings(input: SourceInput): {
  provider: string | null;
  settings: SourceSettings;
} {
  let provider: string | null = null;
  if (input.provider !== undefined && input.provider !== null) {
    const preset = typeof input.provider === 'string' ? getProviderPreset(input.provider) : undefined;
    if (!preset) {
      throw invalid(
        `provider: ${JSON.stringify(input.provider)} is not a preset; expected one of: ${PROVIDER_NAMES.join(', ')}`,
      );
    }
    provider = preset.name;
  }
  const settings: SourceSettings = { maxBodyBytes: DEFAULT_MAX_BODY_BYTES, requireJson: false };
  if (input.verification !== undefined && input.verification !== null) {
    if (provider)
      throw invalid(
        'verification: give either provider (a preset) or verification (a custom scheme), not both',
      );
    settings.verification = parseVerificationScheme(input.verification, 'verification');
  }
  if (!provider && !settings.verification) {
    throw invalid(
      'provider or verification is required: name a preset, or describe a scheme; to accept unsigned requests say so with verification: { "type": "none" }',
    );
  }
  if (input.handshake !== undefined && input.handshake !== null) {
    const h = input.handshake as Record<string, unknown>;
    if (typeof h !== 'object' || Array.isArray(h)) throw invalid('handshake: expected an object');
    const out: SourceSettings['handshake'] = {};
    for (const [k, v] of Object.entries(h)) {
      if (k === 'kind') {
        if (!(HANDSHAKE_KINDS as readonly unknown[]).includes(v)) {
          throw invalid(`handshake.kind: expected one of: ${HANDSHAKE_KINDS.join(', ')}`);
        }
        out.kind = v as HandshakeKind;
      } else if (k === 'verifyToken' || k === 'authorization') {
        if (typeof v !== 'string' || v === '' || v.length > 1000)
          throw invalid(`handshake.${k}: expected a non-empty string`);
        out[k] = v;
      } else if (k === 'awaitingSecret') {
        if (typeof v !== 'boolean') throw invalid('handshake.awaitingSecret: expected true or false');
        out.awaitingSecret = v;
      } else {
        throw invalid(
          `handshake.${k}: unknown field; expected kind, verifyToken, authorization, awaitingSecret`,
        );
      }
    }
    settings.handshake = out;
  }
  const dedupe = locator(input.dedupe, 'dedupe');
  if (dedupe) settings.dedupe = dedupe;
  const eventType = locator(input.eventType, 'eventType');
  if (eventType) settings.eventType = eventType;
  const routing = locator(input.routing, 'routing');
  if (routing) settings.routing = routing;
  if (input.toleranceSeconds !== undefined && input.toleranceSeconds !== null) {
    const t = input.toleranceSeconds;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 86_400) {
      throw invalid('toleranceSeconds: expected an integer from 1 to 86400');
    }
    settings.toleranceSeconds = t;
  }
  if (input.maxBodyBytes !== undefined && input.maxBodyBytes !== null) {
    const m = input.maxBodyBytes;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > MAX_MAX_BODY_BYTES) {
      throw invalid(`maxBodyBytes: expected an integer from 1 to ${MAX_MAX_BODY_BYTES} (20 MiB)`);
    }
    settings.maxBodyBytes = m;
  }
  if (input.requireJson !== undefined && input.requireJson !== null) {
    if (typeof input.requireJson !== 'boolean') throw invalid('requireJson: expected true or false');
    settings.requireJson = input.requireJson;
  }
  if (input.publicUrl !== undefined && input.publicUrl !== null) {
    let ok = false;
    if (typeof input.publicUrl === 'string' && input.publicUrl.length <= 2000) {
      try {
        const u = new URL(input.publicUrl);
        ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.search === '' && u.hash === '';
      } catch {}
    }
    if (!ok) throw invalid('publicUrl: expected an absolute http(s) URL without query string or fragment');
    settings.publicUrl = input.publicUrl as string;
  }
  return { provider, settings };
}

/** Reads stored settings back (they were validated on the way in). */
export function storedSettings(raw: Record<string, unknown>): SourceSettings {
  return raw as unknown as SourceSettings;
}
