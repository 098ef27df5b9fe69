import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { HookyardError } from '../domain/errors.ts';
import { HANDSHAKE_KINDS } from '../ingest/handshakes/handshake-types.ts';
import { compileJsonPath } from '../ingest/verification/json-path.ts';
import { getProviderPreset, PROVIDER_NAMES } from '../ingest/verification/provider-presets.ts';
import { parseVerificationScheme } from '../ingest/verification/scheme-validation.ts';
import type { IntegrationDefinition, RequestTemplate, TriggerDefinition } from './integration-definition.ts';
import { checkTemplate, placeholderPath, placeholdersIn } from './template-renderer.ts';

/**
 * Validates an integration definition against docs/integration.schema.json, then checks what a
 * JSON Schema cannot say (placeholders, JSON paths, verification schemes, unique names). Every
 * problem is reported, each as `field.path: what was expected`, so one answer fixes them all.
 */

export const SCHEMA_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'docs',
  'integration.schema.json',
);

export const integrationSchema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;

const ajv = new Ajv2020({ allErrors: true, verbose: true, discriminator: true, strict: false });
const validateSchema = ajv.compile(integrationSchema);

/** The fields a verification block adds to the generic scheme: where its key material comes from. */
const VERIFICATION_KEY_FIELDS = ['secret', 'publicKey', 'toleranceSeconds'] as const;

/** `/triggers/0/subscribe` → `triggers[0].subscribe`. */
export function fieldPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

function join(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

function describeType(type: unknown): string {
  const list = Array.isArray(type) ? type : [type];
  return list
    .map((t) =>
      t === 'object' ? 'an object' : t === 'array' ? 'an array' : t === 'integer' ? 'an integer' : `a ${t}`,
    )
    .join(' or ');
}

/** One Ajv error as `field.path: what was expected` (shared with workflow documents). */
export function formatError(e: ErrorObject): string | null {
  const at = fieldPath(e.instancePath);
  const where = at === '' ? '(document)' : at;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${join(at, String(params.missingProperty))}: is required`;
    case 'additionalProperties': {
      const known = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      const allowed = known.length ? `; allowed: ${known.join(', ')}` : '';
      return `${join(at, String(params.additionalProperty))}: is not a known field${allowed}`;
    }
    case 'enum':
      return `${where}: expected one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `${where}: expected ${JSON.stringify(params.allowedValue)}`;
    case 'type':
      return `${where}: expected ${describeType(params.type)}`;
    case 'pattern': {
      const description = (e.parentSchema as { description?: string })?.description;
      return `${where}: expected text matching ${String(params.pattern)}${description ? ` (${description})` : ''}`;
    }
    case 'discriminator':
      return params.error === 'mapping'
        ? `${join(at, String(params.tag))}: expected one of ${discriminatorValues(e).join(', ')}`
        : `${join(at, String(params.tag))}: is required (one of ${discriminatorValues(e).join(', ')})`;
    case 'not':
      if (Array.isArray((e.schema as { required?: unknown })?.required)) {
        return `${where}: give only one of ${((e.schema as { required: string[] }).required).join(', ')}`;
      }
      return `${where}: ${e.message ?? 'is not allowed'}`;
    case 'minProperties':
    case 'maxProperties': {
      const parent = e.parentSchema as {
        minProperties?: number;
        maxProperties?: number;
        properties?: object;
      };
      // { minProperties: 1, maxProperties: 1 } is how the schema says "exactly one of".
      if (parent.minProperties === 1 && parent.maxProperties === 1) {
        return `${where}: expected exactly one of ${Object.keys(parent.properties ?? {}).join(', ')}`;
      }
      return `${where}: ${e.message}`;
    }
    case 'propertyName':
      return `${join(at, String(params.propertyName))}: is not an allowed name`;
    // Reported through the errors of the branch or property they wrap.
    case 'if':
    case 'propertyNames':
      return null;
    default:
      return `${where}: ${e.message ?? e.keyword}`;
  }
}

function discriminatorValues(e: ErrorObject): string[] {
  const branches = (e.parentSchema as { oneOf?: Array<{ properties?: { type?: { const?: string } } }> })
    ?.oneOf;
  return (branches ?? []).map((b) => String(b.properties?.type?.const));
}

function schemaProblems(input: unknown): string[] {
  if (validateSchema(input)) return [];
  const out: string[] = [];
  for (const e of validateSchema.errors ?? []) {
    const line = formatError(e);
    if (line && !out.includes(line)) out.push(line);
  }
  return out;
}

function jsonPathProblem(value: unknown, field: string, problems: string[]): void {
  if (typeof value !== 'string') return;
  try {
    compileJsonPath(value);
  } catch (err) {
    problems.push(`${field}: ${(err as HookyardError).detail ?? (err as Error).message}`);
  }
}

/** Every JSON path in the document: response paths, locators, filters, account ids. */
function jsonPathProblems(value: unknown, field: string, problems: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      jsonPathProblems(v, `${field}[${i}]`, problems);
    });
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    const at = join(field, k);
    // Samples and fixtures are data, not definitions.
    if (k === 'sample' || k === 'fixtures') continue;
    if (k === 'jsonPath') jsonPathProblem(v, at, problems);
    else if (k === 'jsonPaths' && Array.isArray(v))
      v.forEach((p, i) => {
        jsonPathProblem(p, `${at}[${i}]`, problems);
      });
    else if ((k === 'response' || k === 'save') && v && typeof v === 'object') {
      for (const [rk, rv] of Object.entries(v)) {
        if (typeof rv === 'string') jsonPathProblem(rv, `${at}.${rk}`, problems);
      }
      jsonPathProblems(v, at, problems);
    } else jsonPathProblems(v, at, problems);
  }
}

function requestProblems(request: RequestTemplate | undefined, field: string, problems: string[]): void {
  if (!request) return;
  problems.push(...checkTemplate(request.url, `${field}.url`));
  problems.push(...checkTemplate(request.headers ?? {}, `${field}.headers`));
  problems.push(...checkTemplate(request.query ?? {}, `${field}.query`));
  if (request.body !== undefined) problems.push(...checkTemplate(request.body, `${field}.body`));
  if (request.form !== undefined) problems.push(...checkTemplate(request.form, `${field}.form`));
}

function verificationProblems(trigger: TriggerDefinition, field: string, problems: string[]): void {
  const v = trigger.verification;
  if (!v) return;
  for (const key of ['secret', 'publicKey'] as const) {
    if (typeof v[key] === 'string') problems.push(...checkTemplate(v[key], `${field}.${key}`));
  }
  if (v.provider !== undefined) {
    if (v.type !== undefined)
      problems.push(`${field}: give either provider (a preset) or type (a scheme), not both`);
    if (!getProviderPreset(String(v.provider))) {
      problems.push(`${field}.provider: expected one of ${PROVIDER_NAMES.join(', ')}`);
    }
    for (const key of Object.keys(v)) {
      if (key !== 'provider' && !(VERIFICATION_KEY_FIELDS as readonly string[]).includes(key)) {
        problems.push(
          `${field}.${key}: is not a known field with a preset; allowed: provider, ${VERIFICATION_KEY_FIELDS.join(', ')}`,
        );
      }
    }
    return;
  }
  if (v.type === undefined) {
    problems.push(`${field}: expected provider (a preset name) or type (a generic scheme)`);
    return;
  }
  const scheme = Object.fromEntries(
    Object.entries(v).filter(([k]) => !(VERIFICATION_KEY_FIELDS as readonly string[]).includes(k)),
  );
  try {
    parseVerificationScheme(scheme, field);
  } catch (err) {
    if (err instanceof HookyardError) problems.push(err.detail);
    else throw err;
  }
}

function triggerProblems(trigger: TriggerDefinition, field: string, problems: string[]): void {
  requestProblems(trigger.subscribe?.before?.request, `${field}.subscribe.before.request`, problems);
  requestProblems(trigger.subscribe?.request, `${field}.subscribe.request`, problems);
  requestProblems(trigger.subscribe?.after?.request, `${field}.subscribe.after.request`, problems);
  requestProblems(trigger.unsubscribe?.request, `${field}.unsubscribe.request`, problems);
  requestProblems(trigger.renew?.request, `${field}.renew.request`, problems);
  requestProblems(trigger.check?.request, `${field}.check.request`, problems);
  if (trigger.setup === 'manual') {
    for (const key of ['subscribe', 'unsubscribe', 'renew', 'check'] as const) {
      if (trigger[key] !== undefined)
        problems.push(`${field}.${key}: only a trigger with setup "api" has requests`);
    }
  }
  if (trigger.renew && !trigger.subscribe?.response?.expiresAt && !trigger.subscribe?.expiresInSeconds) {
    problems.push(
      `${field}.renew: needs subscribe.response.expiresAt or subscribe.expiresInSeconds to know when to run`,
    );
  }
  if (trigger.level === 'user' && trigger.routing) {
    problems.push(`${field}.routing: only an app-level trigger is routed; a user-level one has its own URL`);
  }
  verificationProblems(trigger, `${field}.verification`, problems);
  const handshake = trigger.handshake;
  if (handshake) {
    if ((handshake.kind === undefined) === (handshake.code === undefined)) {
      problems.push(`${field}.handshake: expected exactly one of kind, code`);
    }
    if (handshake.kind !== undefined && !(HANDSHAKE_KINDS as readonly string[]).includes(handshake.kind)) {
      problems.push(`${field}.handshake.kind: expected one of ${HANDSHAKE_KINDS.join(', ')}`);
    }
    if (handshake.verifyToken !== undefined) {
      problems.push(...checkTemplate(handshake.verifyToken, `${field}.handshake.verifyToken`));
    }
  }
  if (trigger.level === 'app') appLevelProblems(trigger, field, problems);
  const filterField = trigger.filter?.field as Record<string, unknown> | undefined;
  if (filterField && 'header' in filterField === 'jsonPath' in filterField) {
    problems.push(`${field}.filter.field: expected exactly one of header, jsonPath`);
  }
  const keys = new Set<string>();
  trigger.parameters?.forEach((p, i) => {
    if (keys.has(p.key)) problems.push(`${field}.parameters[${i}].key: "${p.key}" is used twice`);
    keys.add(p.key);
  });
}

const APP_TEMPLATE_ROOT = 'integration.';

/**
 * An app-level trigger is received by one source per project: its values can come only from the
 * project's settings, and its readers must be ones a source has (a header or a JSON path).
 */
function appLevelProblems(trigger: TriggerDefinition, field: string, problems: string[]): void {
  const templates: Array<[string, unknown]> = [
    [`${field}.verification.secret`, trigger.verification?.secret],
    [`${field}.verification.publicKey`, trigger.verification?.publicKey],
    [`${field}.handshake.verifyToken`, trigger.handshake?.verifyToken],
  ];
  for (const [at, value] of templates) {
    if (typeof value !== 'string') continue;
    for (const expression of placeholdersIn(value)) {
      const path = placeholderPath(expression);
      if (!path.startsWith(APP_TEMPLATE_ROOT)) {
        problems.push(
          `${at}: an app-level trigger can use only {{integration.*}} (the project's settings and client) (got {{${path}}})`,
        );
      }
    }
  }
  for (const key of ['routing', 'eventId', 'eventType'] as const) {
    const locator = trigger[key];
    if (locator && !('header' in locator) && !('jsonPath' in locator)) {
      problems.push(`${field}.${key}: an app-level trigger reads a header or a jsonPath`);
    }
  }
}

/** The parts of an app-level trigger its integration's source is built from. */
function appReceiving(trigger: TriggerDefinition): string {
  const { verification, handshake, routing, eventId, eventType } = trigger;
  return JSON.stringify({ verification, handshake, routing, eventId, eventType });
}

/** Every problem with `input` as an integration definition; empty when it is one. */
export function definitionProblems(input: unknown): string[] {
  const problems = schemaProblems(input);
  // The semantic checks read the shape the schema promises; with schema errors they would only
  // repeat them less clearly.
  if (problems.length > 0) return problems;
  const def = input as IntegrationDefinition;
  if (def.auth.type !== 'none') {
    const auth = def.auth as Record<string, unknown>;
    for (const key of ['authorizationUrl', 'tokenUrl', 'revokeUrl']) {
      if (typeof auth[key] === 'string') problems.push(...checkTemplate(auth[key], `auth.${key}`));
    }
    if (def.auth.providerAccountId?.request) {
      requestProblems(def.auth.providerAccountId.request, 'auth.providerAccountId.request', problems);
    }
  }
  jsonPathProblems({ auth: def.auth, triggers: def.triggers }, '', problems);
  const types = new Set<string>();
  def.triggers.forEach((trigger, i) => {
    const field = `triggers[${i}]`;
    if (types.has(trigger.type)) problems.push(`${field}.type: "${trigger.type}" is used by another trigger`);
    types.add(trigger.type);
    triggerProblems(trigger, field, problems);
  });
  const appTriggers = def.triggers.flatMap((t, i) => (t.level === 'app' ? [{ t, i }] : []));
  const first = appTriggers[0];
  for (const { t, i } of appTriggers.slice(1)) {
    if (first && appReceiving(t) !== appReceiving(first.t)) {
      problems.push(
        `triggers[${i}]: app-level triggers share one URL per project, so they must have the same verification, handshake, routing, eventId and eventType as triggers[${first.i}] (they differ by filter)`,
      );
    }
  }
  def.fixtures?.forEach((fixture, i) => {
    if (!types.has(fixture.trigger)) {
      problems.push(`fixtures[${i}].trigger: expected one of ${[...types].join(', ')}`);
    }
  });
  return problems;
}

/** Returns the definition typed, or throws validation_failed listing every problem. */
export function validateDefinition(input: unknown, what = 'integration definition'): IntegrationDefinition {
  const problems = definitionProblems(input);
  if (problems.length > 0) {
    throw new HookyardError(
      'validation_failed',
      `${what} has ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`,
    );
  }
  return input as IntegrationDefinition;
}
