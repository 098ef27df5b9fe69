import { HookyardError } from '../../domain/errors.ts';
import { compileJsonPath } from './json-path.ts';
import { SECRET_ENCODINGS } from './secrets.ts';
import { compileSignedContent } from './signed-content.ts';
import {
  HMAC_ALGORITHMS,
  SCHEME_TYPES,
  SIGNATURE_ENCODINGS,
  type SignatureFormat,
  TIMESTAMP_UNITS,
  type TimestampRule,
  TOLERANCE_DIRECTIONS,
  type VerificationScheme,
} from './verification-scheme.ts';

type Obj = Record<string, unknown>;

function invalid(detail: string): never {
  throw new HookyardError('validation_failed', detail);
}

function object(value: unknown, field: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    invalid(`${field} must be an object`);
  return value as Obj;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    invalid(`${field} must be one of: ${allowed.join(', ')} (got ${JSON.stringify(value) ?? 'nothing'})`);
  }
  return value as T;
}

function text(value: unknown, field: string, opts: { optional: true }): string | undefined;
function text(value: unknown, field: string, opts?: { optional?: false }): string;
function text(value: unknown, field: string, opts?: { optional?: boolean }): string | undefined {
  if (value === undefined && opts?.optional) return undefined;
  if (typeof value !== 'string' || value === '') invalid(`${field} must be a non-empty string`);
  return value;
}

function headerName(value: unknown, field: string): string {
  const name = text(value, field);
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
    invalid(`${field} must be an HTTP header name (got "${name}")`);
  return name.toLowerCase();
}

function noExtraKeys(value: Obj, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      invalid(`${field}.${key} is not a known field; allowed: ${allowed.join(', ')}`);
  }
}

/** Checks a tolerance in seconds; exported because sources override the preset's value. */
export function parseToleranceSeconds(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 31_536_000) {
    invalid(`${field} must be a number of seconds from 0 to 31536000`);
  }
  return value;
}

function parseSignatureFormat(value: unknown, field: string): SignatureFormat {
  const o = object(value, field);
  noExtraKeys(o, ['header', 'separator', 'pairs', 'prefix', 'encoding'], field);
  const format: SignatureFormat = {
    header: headerName(o.header, `${field}.header`),
    encoding: oneOf(o.encoding, SIGNATURE_ENCODINGS, `${field}.encoding`),
  };
  if (o.separator !== undefined) format.separator = text(o.separator, `${field}.separator`);
  if (o.prefix !== undefined) format.prefix = text(o.prefix, `${field}.prefix`);
  if (o.pairs !== undefined) {
    const p = object(o.pairs, `${field}.pairs`);
    noExtraKeys(p, ['keySeparator', 'key'], `${field}.pairs`);
    format.pairs = {
      keySeparator: text(p.keySeparator, `${field}.pairs.keySeparator`),
      key: text(p.key, `${field}.pairs.key`),
    };
    if (format.separator !== undefined && format.separator === format.pairs.keySeparator) {
      invalid(`${field}.pairs.keySeparator must differ from ${field}.separator`);
    }
  }
  return format;
}

function parseTimestampRule(value: unknown, field: string, signature: SignatureFormat): TimestampRule {
  const o = object(value, field);
  noExtraKeys(o, ['header', 'signatureKey', 'jsonPath', 'unit', 'toleranceSeconds', 'direction'], field);
  const rule: TimestampRule = {
    unit: oneOf(o.unit, TIMESTAMP_UNITS, `${field}.unit`),
    toleranceSeconds: parseToleranceSeconds(o.toleranceSeconds, `${field}.toleranceSeconds`),
    direction: oneOf(o.direction ?? 'both', TOLERANCE_DIRECTIONS, `${field}.direction`),
  };
  if (o.header !== undefined) rule.header = headerName(o.header, `${field}.header`);
  if (o.signatureKey !== undefined) {
    rule.signatureKey = text(o.signatureKey, `${field}.signatureKey`);
    if (!signature.pairs)
      invalid(`${field}.signatureKey needs signature.pairs (a key=value signature header)`);
  }
  if (o.jsonPath !== undefined) {
    rule.jsonPath = text(o.jsonPath, `${field}.jsonPath`);
    compileJsonPath(rule.jsonPath);
  }
  const sources = [rule.header, rule.signatureKey, rule.jsonPath].filter((s) => s !== undefined).length;
  if (sources === 0) invalid(`${field} needs one of: header, signatureKey, jsonPath`);
  if (rule.signatureKey !== undefined && sources > 1) {
    invalid(`${field}.signatureKey cannot be combined with header or jsonPath`);
  }
  return rule;
}

/**
 * Validates a scheme given as data (a source's custom config) and returns it typed. Every error
 * names the field and says what is allowed, because this is what an operator sees in the API.
 */
export function parseVerificationScheme(input: unknown, field = 'scheme'): VerificationScheme {
  const o = object(input, field);
  const type = oneOf(o.type, SCHEME_TYPES, `${field}.type`);
  switch (type) {
    case 'none':
      noExtraKeys(o, ['type'], field);
      return { type };
    case 'basic':
      noExtraKeys(o, ['type'], field);
      return { type };
    case 'api-key': {
      noExtraKeys(o, ['type', 'header', 'prefix'], field);
      const scheme: VerificationScheme = { type, header: headerName(o.header, `${field}.header`) };
      if (o.prefix !== undefined) scheme.prefix = text(o.prefix, `${field}.prefix`);
      return scheme;
    }
    case 'token': {
      noExtraKeys(o, ['type', 'query', 'jsonPath'], field);
      const query = text(o.query, `${field}.query`, { optional: true });
      const jsonPath = text(o.jsonPath, `${field}.jsonPath`, { optional: true });
      if ((query === undefined) === (jsonPath === undefined))
        invalid(`${field} needs exactly one of: query, jsonPath`);
      if (jsonPath !== undefined) compileJsonPath(jsonPath);
      return query !== undefined ? { type, query } : { type, jsonPath: jsonPath as string };
    }
    case 'hmac':
    case 'ed25519':
    case 'ecdsa-p256': {
      const allowed = ['type', 'signature', 'signedContent', 'timestamp'];
      if (type === 'hmac') allowed.push('algorithm', 'secretEncoding');
      noExtraKeys(o, allowed, field);
      const signature = parseSignatureFormat(o.signature, `${field}.signature`);
      const signedContent = text(o.signedContent, `${field}.signedContent`);
      const template = compileSignedContent(signedContent, `${field}.signedContent`);
      const timestamp =
        o.timestamp === undefined
          ? undefined
          : parseTimestampRule(o.timestamp, `${field}.timestamp`, signature);
      if (template.usesTimestamp && !timestamp) {
        invalid(`${field}.signedContent uses {timestamp} but ${field}.timestamp is not set`);
      }
      const base = { signature, signedContent, ...(timestamp ? { timestamp } : {}) };
      if (type === 'hmac') {
        return {
          type,
          algorithm: oneOf(o.algorithm, HMAC_ALGORITHMS, `${field}.algorithm`),
          secretEncoding: oneOf(o.secretEncoding ?? 'utf8', SECRET_ENCODINGS, `${field}.secretEncoding`),
          ...base,
        };
      }
      return { type, ...base };
    }
  }
}
