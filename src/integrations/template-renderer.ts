import type { RequestTemplate } from './integration-definition.ts';

/**
 * The one renderer for request templates in integration definitions: `{{path}}` placeholders over
 * a fixed vocabulary, rendered into a request ready to send. Pure: no I/O, no clock; whoever calls
 * it puts everything it needs into the context.
 *
 * Rules:
 * - A placeholder names a path into the context; a path outside the vocabulary is a definition
 *   error (checkTemplate), a path without a value is a render error naming it.
 * - URL path and query placeholders are percent-encoded, so a value cannot add a path segment or a
 *   query parameter; a placeholder in the host must render to a host name (letters, digits, `.`,
 *   `-`), so a value cannot move the request to another host.
 * - Headers may not contain CR or LF.
 * - In a JSON body a string that is exactly one placeholder becomes the value itself (number,
 *   boolean, array, object); inside longer text values are inserted as text. In a form body such a
 *   field over an array is repeated once per item.
 * - Nothing is escaped on the way in: a template has no way to write a literal `{{`.
 */

export interface TemplateContext {
  settings?: { webhookURL?: string };
  credential?: {
    accessToken?: string;
    providerAccountId?: string;
    settings?: Record<string, unknown>;
  };
  parameters?: Record<string, unknown>;
  subscription?: {
    providerId?: string;
    secret?: string;
    /** The expiry requested from the provider, ISO 8601 (subscribe.expiresInSeconds from now). */
    expiresAt?: string;
    saved?: Record<string, unknown>;
  };
  /** The project's settings for the integration, and its OAuth client (signing keys of app-level webhooks). */
  integration?: { settings?: Record<string, unknown>; clientId?: string; clientSecret?: string };
}

/** How the connected account authenticates a request, decided by the definition's auth type. */
export type CredentialAuth = { header: string; value: string } | { query: string; value: string };

export interface RenderedRequest {
  method: string;
  url: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string | undefined;
}

export class TemplateError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'TemplateError';
  }
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([^{}]*?)\s*\}\}$/;
const SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** The exact leaf paths, and the prefixes under which any further path is allowed. */
const EXACT_PATHS = new Set([
  'settings.webhookURL',
  'credential.accessToken',
  'credential.providerAccountId',
  'subscription.providerId',
  'subscription.secret',
  'subscription.expiresAt',
  'integration.clientId',
  'integration.clientSecret',
]);
const OPEN_PREFIXES = [
  'credential.settings.',
  'parameters.',
  'subscription.saved.',
  'integration.settings.',
] as const;

export const TEMPLATE_VOCABULARY = [...EXACT_PATHS, ...OPEN_PREFIXES.map((p) => `${p}*`)] as const;

/**
 * Which placeholder paths a template may use: exact paths, prefixes under which any further path
 * is allowed, and what one path segment may be. Integration definitions use the default one;
 * workflows pass their own (src/workflows/workflow-templates.ts).
 */
export interface TemplateVocabulary {
  exact: ReadonlySet<string>;
  openPrefixes: readonly string[];
  segment: RegExp;
}

export const INTEGRATION_VOCABULARY: TemplateVocabulary = {
  exact: EXACT_PATHS,
  openPrefixes: OPEN_PREFIXES,
  segment: SEGMENT,
};

function vocabularyList(vocabulary: TemplateVocabulary): string[] {
  return [...vocabulary.exact, ...vocabulary.openPrefixes.map((p) => `${p}*`)];
}

/**
 * Filters a placeholder may apply after its path (`{{subscription.providerId | lastSegment}}`).
 * lastSegment: the text after the last `/` (Calendly names a subscription by its URI; deleting it
 * takes the id at the URI's end).
 */
const FILTERS: Record<string, (value: unknown) => unknown> = {
  lastSegment: (value) =>
    typeof value === 'string' ? value.slice(value.lastIndexOf('/') + 1) || undefined : undefined,
};

/** The path of a placeholder expression (`path | filter` → `path`). */
export function placeholderPath(expression: string): string {
  return (expression.split('|')[0] ?? '').trim();
}

/** Why the placeholder expression is not one this renderer knows, or null when it is one. */
export function referenceProblem(
  expression: string,
  vocabulary: TemplateVocabulary = INTEGRATION_VOCABULARY,
): string | null {
  const [pathPart, ...filters] = expression.split('|').map((p) => p.trim());
  for (const filter of filters) {
    if (!Object.hasOwn(FILTERS, filter)) {
      return `{{${expression}}}: "${filter}" is not a filter; expected one of ${Object.keys(FILTERS).join(', ')}`;
    }
  }
  const path = pathPart ?? '';
  const segments = path.split('.');
  if (segments.some((s) => !vocabulary.segment.test(s))) {
    return `{{${path}}} is not a dotted path of names`;
  }
  if (vocabulary.exact.has(path)) return null;
  if (vocabulary.openPrefixes.some((p) => path.startsWith(p) && path.length > p.length)) return null;
  return `{{${path}}} is not a known placeholder; expected one of ${vocabularyList(vocabulary).join(', ')}`;
}

/** The placeholders in one string. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

/** Every placeholder problem in a template value (string, or JSON walked deeply), by field path. */
export function checkTemplate(
  value: unknown,
  field: string,
  vocabulary: TemplateVocabulary = INTEGRATION_VOCABULARY,
): string[] {
  const problems: string[] = [];
  walkStrings(value, field, (text, at) => {
    if (text.includes('{{') && placeholdersIn(text).length === 0) {
      problems.push(`${at}: "{{" opens no placeholder`);
    }
    for (const path of placeholdersIn(text)) {
      const problem = referenceProblem(path, vocabulary);
      if (problem) problems.push(`${at}: ${problem}`);
    }
  });
  return problems;
}

function walkStrings(value: unknown, field: string, visit: (text: string, field: string) => void): void {
  if (typeof value === 'string') visit(value, field);
  else if (Array.isArray(value))
    value.forEach((v, i) => {
      walkStrings(v, `${field}[${i}]`, visit);
    });
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) walkStrings(v, `${field}.${k}`, visit);
  }
}

function lookup(
  context: object,
  expression: string,
  field: string,
  vocabulary: TemplateVocabulary = INTEGRATION_VOCABULARY,
): unknown {
  const problem = referenceProblem(expression, vocabulary);
  if (problem) throw new TemplateError(field, problem);
  const [path = '', ...filters] = expression.split('|').map((p) => p.trim());
  let current: unknown = context;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) {
      current = undefined;
      break;
    }
    current = (current as Record<string, unknown>)[segment];
  }
  for (const filter of filters) {
    if (current === undefined || current === null) break;
    current = FILTERS[filter]?.(current);
  }
  if (current === undefined || current === null) {
    throw new TemplateError(field, `{{${expression}}} has no value`);
  }
  return current;
}

function asText(value: unknown, path: string, field: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(
    field,
    `{{${path}}} is ${Array.isArray(value) ? 'an array' : 'an object'}; only a JSON body value that is exactly one placeholder can take it`,
  );
}

/** Renders a string template; `encode` is applied to each inserted value (not to the literal text). */
export function renderText(
  text: string,
  context: TemplateContext,
  field: string,
  encode: (value: string) => string = (v) => v,
  vocabulary: TemplateVocabulary = INTEGRATION_VOCABULARY,
): string {
  return text.replace(PLACEHOLDER, (_m, path: string) =>
    encode(asText(lookup(context, path, field, vocabulary), path, field)),
  );
}

/** Renders a JSON value: a string that is exactly one placeholder keeps the value's type. */
export function renderJson(
  value: unknown,
  context: TemplateContext,
  field: string,
  vocabulary: TemplateVocabulary = INTEGRATION_VOCABULARY,
): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    if (whole) return lookup(context, whole[1] ?? '', field, vocabulary);
    return renderText(value, context, field, undefined, vocabulary);
  }
  if (Array.isArray(value)) return value.map((v, i) => renderJson(v, context, `${field}[${i}]`, vocabulary));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderJson(v, context, `${field}.${k}`, vocabulary);
    return out;
  }
  return value;
}

const HOST_VALUE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

function renderUrl(
  template: string,
  context: TemplateContext,
  field: string,
  vocabulary: TemplateVocabulary,
): URL {
  // The authority ends at the first `/`, `?` or `#` after the scheme; placeholders before it land in
  // the host, after it in the path or query.
  const schemeEnd = template.indexOf('://') + 3;
  const rest = template.slice(schemeEnd);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  const host = renderText(
    authority,
    context,
    field,
    (v) => {
      if (!HOST_VALUE.test(v)) {
        throw new TemplateError(field, `"${v}" cannot be part of a host name (letters, digits, ".", "-")`);
      }
      return v;
    },
    vocabulary,
  );
  const renderedTail = renderText(tail, context, field, encodeURIComponent, vocabulary);
  let url: URL;
  try {
    url = new URL(`${template.slice(0, schemeEnd)}${host}${renderedTail}`);
  } catch {
    throw new TemplateError(field, 'does not render to a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TemplateError(field, 'must render to an http(s) URL');
  }
  return url;
}

function headerText(value: string, field: string): string {
  if (/[\r\n]/.test(value)) throw new TemplateError(field, 'a header value cannot contain CR or LF');
  return value;
}

/**
 * Renders a request template into the request to send. `auth` is the connected account's auth,
 * added unless the template says `auth: none` or sets that header itself.
 */
export function renderRequest(
  template: RequestTemplate,
  context: TemplateContext,
  options: { field?: string; auth?: CredentialAuth; vocabulary?: TemplateVocabulary } = {},
): RenderedRequest {
  const field = options.field ?? 'request';
  const vocabulary = options.vocabulary ?? INTEGRATION_VOCABULARY;
  const url = renderUrl(template.url, context, `${field}.url`, vocabulary);
  for (const [name, value] of Object.entries(template.query ?? {})) {
    url.searchParams.append(
      name,
      renderText(value, context, `${field}.query.${name}`, undefined, vocabulary),
    );
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(template.headers ?? {})) {
    headers[name.toLowerCase()] = headerText(
      renderText(value, context, `${field}.headers.${name}`, undefined, vocabulary),
      `${field}.headers.${name}`,
    );
  }
  let body: string | undefined;
  if (template.body !== undefined) {
    body = JSON.stringify(renderJson(template.body, context, `${field}.body`, vocabulary));
    headers['content-type'] ??= 'application/json';
  } else if (template.form !== undefined) {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(template.form)) {
      const values = Array.isArray(value) ? value : [value];
      values.forEach((v, i) => {
        const at = Array.isArray(value) ? `${field}.form.${name}[${i}]` : `${field}.form.${name}`;
        // A field that is exactly one placeholder over an array repeats once per item (Stripe's
        // enabled_events[]).
        const whole = WHOLE_PLACEHOLDER.exec(v);
        const list = whole ? lookup(context, whole[1] ?? '', at) : undefined;
        if (Array.isArray(list)) {
          for (const item of list) form.append(name, asText(item, whole?.[1] ?? '', at));
        } else form.append(name, renderText(v, context, at));
      });
    }
    body = form.toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  const auth = options.auth;
  if (auth && template.auth !== 'none') {
    if ('header' in auth) {
      const name = auth.header.toLowerCase();
      if (headers[name] === undefined) headers[name] = headerText(auth.value, `${field}.auth`);
    } else if (!url.searchParams.has(auth.query)) {
      url.searchParams.set(auth.query, auth.value);
    }
  }
  return { method: template.method, url: url.toString(), headers, body };
}
