import { randomBytes } from 'node:crypto';

/**
 * Typed, prefixed identifiers. The prefix tells a reader (and a log search) what an id names;
 * the brand stops one kind of id being passed where another is expected.
 */
export const ID_PREFIXES = {
  project: 'prj',
  apiKey: 'key',
  source: 'src',
  event: 'evt',
  tenant: 'tnt',
  credential: 'cred',
  endpoint: 'ep',
  message: 'msg',
  delivery: 'dlv',
  attempt: 'att',
  eventType: 'et',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export type Id<K extends IdKind> = string & { readonly brand: K };
export type ProjectId = Id<'project'>;
export type ApiKeyId = Id<'apiKey'>;
export type SourceId = Id<'source'>;
export type EventId = Id<'event'>;
export type TenantId = Id<'tenant'>;
export type EndpointId = Id<'endpoint'>;
export type MessageId = Id<'message'>;
export type DeliveryId = Id<'delivery'>;
export type AttemptId = Id<'attempt'>;

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A time-ordered id: 9 base36 chars of milliseconds (sortable until the year 5188) then 14 random
 * base36 chars (~72 bits). Sorting ids sorts by creation time, which cursor pagination relies on.
 */
export function newId<K extends IdKind>(kind: K, nowMs: number = Date.now()): Id<K> {
  const time = nowMs.toString(36).padStart(9, '0');
  const bytes = randomBytes(14);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 36];
  return `${ID_PREFIXES[kind]}_${time}${rand}` as Id<K>;
}

const ID_SHAPE = /^[a-z]+_[0-9a-z]{8,64}$/;

/** True when `value` looks like an id of `kind` (prefix and shape); says nothing about existence. */
export function isId<K extends IdKind>(kind: K, value: unknown): value is Id<K> {
  return typeof value === 'string' && value.startsWith(`${ID_PREFIXES[kind]}_`) && ID_SHAPE.test(value);
}
