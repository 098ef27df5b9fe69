import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Request validation for the management API, and the words its errors are answered with.
 *
 * Bodies are JSON, so a value of the wrong type is the client's mistake and is refused, never
 * coerced (`{"timeoutMs":"15000"}` is an error, not 15000). Query strings and path parameters are
 * text by nature, so there a number the schema asks for is parsed from its digits.
 */

// ajv-formats is CommonJS; under NodeNext its default import may arrive wrapped.
const addFormats = ((formatsPlugin as unknown as { default?: typeof formatsPlugin }).default ??
  formatsPlugin) as unknown as (ajv: Ajv) => void;

function newAjv(coerceTypes: boolean | 'array'): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    useDefaults: true,
    removeAdditional: false,
    // One error per request: with every error collected, a hostile body could make validation costly.
    allErrors: false,
    // The failing schema travels with the error, so the answer can say what is allowed.
    verbose: true,
    strict: false,
    addUsedSchema: false,
  });
  addFormats(ajv);
  return ajv;
}

/** A Fastify validator compiler: strict types for bodies, parsed numbers for query and path. */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = newAjv(false);
  const textual = newAjv('array');
  return ({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : textual).compile(schema as object) as ValidateFunction;
}

/** Human descriptions of the patterns used in schemas, so an error never shows a raw regex. */
const PATTERN_HINTS = new Map<string, string>();

/** Registers what a schema pattern means in words (shown instead of the regex). */
export function describePattern(pattern: string, words: string): string {
  PATTERN_HINTS.set(pattern, words);
  return pattern;
}

type Schema = Record<string, unknown>;

function typesOf(schema: Schema): string[] {
  const t = schema.type;
  return Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : [];
}

function range(min: unknown, max: unknown, unit: string): string {
  if (typeof min === 'number' && typeof max === 'number') {
    return unit === '' ? ` from ${min} to ${max}` : ` of ${min} to ${max}${unit}`;
  }
  if (typeof min === 'number') return ` of at least ${min}${unit}`;
  if (typeof max === 'number') return ` of at most ${max}${unit}`;
  return '';
}

/** What a schema allows, in words: "an integer from 1 to 256, or null". */
export function describeAllowed(schema: Schema): string {
  if (Array.isArray(schema.enum)) {
    return `one of: ${(schema.enum as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    const options = (schema.anyOf ?? schema.oneOf) as Schema[];
    return options.map(describeAllowed).join(', or ');
  }
  const types = typesOf(schema);
  const parts: string[] = [];
  for (const type of types) {
    if (type === 'null') continue;
    if (type === 'integer' || type === 'number') {
      parts.push(
        `${type === 'integer' ? 'an integer' : 'a number'}${range(schema.minimum, schema.maximum, '')}`,
      );
    } else if (type === 'string') {
      const pattern = typeof schema.pattern === 'string' ? schema.pattern : undefined;
      if (schema.format === 'date-time') parts.push('an RFC 3339 date-time such as 2026-01-31T12:00:00Z');
      else if (pattern !== undefined)
        parts.push(PATTERN_HINTS.get(pattern) ?? `a string matching ${pattern}`);
      else if (schema.minLength === 1 && schema.maxLength === undefined) parts.push('a non-empty string');
      else parts.push(`a string${range(schema.minLength, schema.maxLength, ' characters')}`);
    } else if (type === 'array') {
      const items = schema.items as Schema | undefined;
      const each = items && typesOf(items).length > 0 ? ` (each ${describeAllowed(items)})` : '';
      parts.push(`an array${range(schema.minItems, schema.maxItems, ' items')}${each}`);
    } else if (type === 'boolean') {
      parts.push('true or false');
    } else if (type === 'object') {
      parts.push('a JSON object');
    } else {
      parts.push(type);
    }
  }
  if (parts.length === 0)
    return typeof schema.description === 'string' ? schema.description : 'any JSON value';
  if (types.includes('null')) parts.push('null');
  return parts.join(', or ');
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a number' : 'a fractional number';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `/headers/0/x` → `headers[0].x`. */
function pathOf(context: string, instancePath: string): string {
  let out = context;
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(part) ? `[${part}]` : `.${part}`;
  }
  return out;
}

/**
 * One ajv error as a sentence that names the field, says what was wrong and what is allowed.
 * `context` is the request part (body, querystring, params).
 */
export function describeValidationError(context: string, errors: readonly ErrorObject[]): string {
  // A failed anyOf reports each branch's error first; the anyOf error itself says what was allowed.
  const error = errors.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf') ?? errors[0];
  if (error === undefined) return `${context} is not valid.`;
  const where = pathOf(context, error.instancePath);
  const schema = (error.parentSchema ?? {}) as Schema;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((schema.properties ?? {}) as Schema);
      return `${where}: unknown field "${String(params.additionalProperty)}"; ${
        allowed.length ? `the fields allowed are: ${allowed.join(', ')}` : 'no fields are allowed here'
      }.`;
    }
    case 'required': {
      const missing = String(params.missingProperty);
      const property = ((schema.properties ?? {}) as Record<string, Schema>)[missing];
      return `${where}.${missing} is required${property ? `; expected ${describeAllowed(property)}` : ''}.`;
    }
    case 'type':
      return `${where}: got ${kindOf(error.data)}; expected ${describeAllowed(schema)}.`;
    case 'enum':
    case 'pattern':
    case 'format':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minLength':
    case 'maxLength':
    case 'multipleOf':
    case 'anyOf':
    case 'oneOf':
      return `${where}: ${shown(error.data)} is not allowed; expected ${describeAllowed(schema)}.`;
    case 'minItems':
    case 'maxItems':
      return `${where}: ${(error.data as unknown[]).length} items given; expected ${describeAllowed(schema)}.`;
    case 'maxProperties':
    case 'minProperties':
      return `${where}: ${Object.keys(error.data as object).length} fields given; expected ${
        typeof schema.maxProperties === 'number'
          ? `at most ${schema.maxProperties}`
          : `at least ${schema.minProperties}`
      }.`;
    default:
      return `${where} ${error.message ?? 'is not valid'}.`;
  }
}
