import type { SecretEncoding } from './secrets.ts';

/**
 * A verification scheme as data: JSON-serialisable, so a source can carry a custom one in its
 * config, and the built-in presets are written in the same vocabulary. parseVerificationScheme
 * validates one; compileScheme turns it into a VerifyFn.
 */
export const SCHEME_TYPES = ['hmac', 'ed25519', 'ecdsa-p256', 'basic', 'api-key', 'token', 'none'] as const;
export type SchemeType = (typeof SCHEME_TYPES)[number];

export const HMAC_ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];

export const SIGNATURE_ENCODINGS = ['hex', 'base64'] as const;
export type SignatureEncoding = (typeof SIGNATURE_ENCODINGS)[number];

export const TIMESTAMP_UNITS = ['seconds', 'milliseconds', 'rfc3339'] as const;
export type TimestampUnit = (typeof TIMESTAMP_UNITS)[number];

/** `both` (the default in data): reject too old and too far ahead. `past`: only too old (Stripe, Paddle, Box, HubSpot v3). */
export const TOLERANCE_DIRECTIONS = ['both', 'past'] as const;
export type ToleranceDirection = (typeof TOLERANCE_DIRECTIONS)[number];

/** Where the signature travels and how one header can hold several (rotation). */
export interface SignatureFormat {
  /** Lower-case header name. */
  header: string;
  /** Splits the header into entries: ' ' (Standard Webhooks), ',' (Stripe, PagerDuty), ';' (Paddle). */
  separator?: string;
  /** Entries are `key<keySeparator>value`; only entries whose key is `key` are signatures (Stripe `v1`). */
  pairs?: { keySeparator: string; key: string };
  /** Text each signature must start with, removed before comparing (`sha256=`); other entries are ignored. */
  prefix?: string;
  encoding: SignatureEncoding;
}

/** Where the signed timestamp is, what unit it is in, and how far from now it may be. */
export interface TimestampRule {
  /** Lower-case header carrying the timestamp. */
  header?: string;
  /** Key inside the signature header's pairs (Stripe `t`, Paddle `ts`); needs `signature.pairs`. */
  signatureKey?: string;
  /** JSON path into the body (Linear `$.webhookTimestamp`); preferred over `header` when present. */
  jsonPath?: string;
  unit: TimestampUnit;
  toleranceSeconds: number;
  direction: ToleranceDirection;
}

/**
 * Shared by the signature schemes. `signedContent` is a template over `{method}`, `{url}`, `{body}`,
 * `{timestamp}` and `{header:NAME}`; everything else is literal text (Slack: `v0:{timestamp}:{body}`).
 */
interface SignedScheme {
  signature: SignatureFormat;
  signedContent: string;
  timestamp?: TimestampRule;
}

export interface HmacScheme extends SignedScheme {
  type: 'hmac';
  algorithm: HmacAlgorithm;
  secretEncoding: SecretEncoding;
}

/** Verified with the configured public key (Discord: hex; Standard Webhooks: `whpk_`). */
export interface Ed25519Scheme extends SignedScheme {
  type: 'ed25519';
}

/** ECDSA P-256 with SHA-256 and a DER signature (SendGrid). */
export interface EcdsaP256Scheme extends SignedScheme {
  type: 'ecdsa-p256';
}

/** `Authorization: Basic base64(user:password)`; each secret is the `user:password` string. */
export interface BasicScheme {
  type: 'basic';
}

/** A named header equals a secret, optionally after a prefix such as `Bearer ` (GitLab, Okta). */
export interface ApiKeyScheme {
  type: 'api-key';
  header: string;
  prefix?: string;
}

/** A secret carried in the query string or a JSON body field (legacy verification tokens). */
export interface TokenScheme {
  type: 'token';
  query?: string;
  jsonPath?: string;
}

/** No verification, chosen explicitly so an unverified source is a decision, not an omission. */
export interface NoneScheme {
  type: 'none';
}

export type VerificationScheme =
  | HmacScheme
  | Ed25519Scheme
  | EcdsaP256Scheme
  | BasicScheme
  | ApiKeyScheme
  | TokenScheme
  | NoneScheme;

export type SignedVerificationScheme = HmacScheme | Ed25519Scheme | EcdsaP256Scheme;
