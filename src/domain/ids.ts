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
  workflow: 'wf',
  execution: 'exe',
  userTokenKey: 'utk',
  refusedRequest: 'rfq',
  triggerSubscription: 'sub',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export type Id<K extends IdKind> = string & { readonly brand: K };
export type ProjectId = Id<'project'>;
export type ApiKeyId = Id<'apiKey'>;
export type SourceId = Id<'source'>;
export type EventId = Id<'event'>;
export type TenantId = Id<'tenant'>;
export type CredentialId = Id<'credential'>;
export type EndpointId = Id<'endpoint'>;
export type MessageId = Id<'message'>;
export type DeliveryId = Id<'delivery'>;
export type AttemptId = Id<'attempt'>;
export type WorkflowId = Id<'workflow'>;
export type ExecutionId = Id<'execution'>;
export type UserTokenKeyId = Id<'userTokenKey'>;
export type TriggerSubscriptionId = Id<'triggerSubscription'>;

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A time-ordered id: 9 base36 chars of milliseconds (sortable until the year 5188) then 14 random
 * base36 chars (~72 bits). Sorting ids sorts by creation time, which cursor pagination relies on.
 */
// Random bytes are drawn from a pool refilled 4 KiB at a time: one CSPRNG call per ~290 ids
// instead of one per id, which showed up in ingest profiles.
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let poolOffset = 0;

const ALPHABET_CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));
const randCodes: number[] = new Array(14).fill(0);
// Ids made within one millisecond share their time part, which costs more to format than the rest
// of the id (the ingest path makes one per request).
let lastMs = Number.NaN;
let lastTime = '';

export function newId<K extends IdKind>(kind: K, nowMs: number = Date.now()): Id<K> {
  if (poolOffset + 14 > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  if (nowMs !== lastMs) {
    lastMs = nowMs;
    lastTime = nowMs.toString(36).padStart(9, '0');
  }
  // b % 36 over 0..255 is slightly biased toward low digits; 14 chars still carry > 70 bits.
  for (let i = 0; i < 14; i++) randCodes[i] = ALPHABET_CODES[(pool[poolOffset + i] as number) % 36] as number;
  poolOffset += 14;
  return `${ID_PREFIXES[kind]}_${lastTime}${String.fromCharCode(...randCodes)}` as Id<K>;
}

const ID_SHAPE = /^[a-z]+_[0-9a-z]{8,64}$/;

/** True when `value` looks like an id of `kind` (prefix and shape); says nothing about existence. */
export function isId<K extends IdKind>(kind: K, value: unknown): value is Id<K> {
  return typeof value === 'string' && value.startsWith(`${ID_PREFIXES[kind]}_`) && ID_SHAPE.test(value);
}

/**
 * The lowest id of `kind` made at `ms` or later. Ids start with their creation time, so a time
 * range is an id range, and a table's (project_id, id) key serves time windows without an index
 * on time.
 */
export function idFloor(kind: IdKind, ms: number): string {
  return `${ID_PREFIXES[kind]}_${Math.max(0, Math.floor(ms)).toString(36).padStart(9, '0')}`;
}
