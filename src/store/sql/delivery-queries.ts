import type { EndpointHealthState, HealthChangeReason } from '../../domain/endpoint-health.ts';
import type { AttemptId, DeliveryId, EndpointId, MessageId, ProjectId } from '../../domain/ids.ts';
import type { DeliveryErrorKind } from '../../domain/retry-policy.ts';
import type {
  AttemptRecord,
  ClaimedDelivery,
  DeliveryCompletion,
  DeliveryFailureKind,
  DeliveryRecord,
  DeliveryStatus,
  DeliveryStore,
  EndpointHealthRecord,
  EndpointRecord,
  EventTypeRecord,
  MessageRecord,
  NewMessage,
  SignatureScheme,
} from '../delivery-store.ts';
import type { Page } from '../store.ts';
import type { Db, SqlExecutor, SqlValue, SyncExecutor } from './db.ts';

interface EndpointRow {
  id: string;
  project_id: string;
  url: string;
  name: string;
  description: string;
  event_types: string;
  object_types: string;
  headers: string;
  rate_limit_per_second: number | null;
  max_concurrency: number | null;
  timeout_ms: number;
  signature_scheme: string;
  signature_header: string | null;
  secrets_sealed: string;
  enabled: number;
  health_state: string;
  consecutive_failures: number;
  first_failure_at_ms: number | null;
  failed_since_success: number;
  last_success_at_ms: number | null;
  health_changed_at_ms: number | null;
  health_reason: string | null;
  health_version: number;
  created_at_ms: number;
  updated_at_ms: number;
}

interface MessageRow {
  id: string;
  project_id: string;
  event_type: string;
  object_type: string | null;
  credential_id: string | null;
  user_id: string | null;
  ordering_key: string | null;
  idempotency_key: string | null;
  body: string;
  created_at_ms: number;
}

interface DeliveryRow {
  id: string;
  project_id: string;
  message_id: string;
  endpoint_id: string;
  ordering_key: string | null;
  status: string;
  attempt_count: number;
  schedule_position: number;
  next_attempt_at_ms: number;
  last_attempt_at_ms: number | null;
  last_status_code: number | null;
  last_failure_kind: string | null;
  created_at_ms: number;
  updated_at_ms: number;
  leased_until_ms: number | null;
}

interface AttemptRow {
  id: string;
  project_id: string;
  delivery_id: string;
  message_id: string;
  endpoint_id: string;
  attempt_number: number;
  started_at_ms: number;
  duration_ms: number;
  outcome: string;
  status_code: number | null;
  error_kind: string | null;
  error_message: string | null;
  response_headers: string;
  response_body: string;
  response_body_truncated: number;
  next_attempt_at_ms: number | null;
}

interface ClaimRow {
  id: string;
  project_id: string;
  message_id: string;
  endpoint_id: string;
  ordering_key: string | null;
  attempt_count: number;
  schedule_position: number;
  seq: number;
  body: string;
  credential_id: string | null;
  user_id: string | null;
  endpoint_updated_at_ms: number | null;
  enabled: number | null;
  health_state: string | null;
  consecutive_failures: number | null;
  retry_delays_ms: string | null;
  egress_allow: string | null;
}

const num = (v: number | null): number | null => (v === null ? null : Number(v));

function toHealth(r: {
  health_state: string;
  consecutive_failures: number;
  first_failure_at_ms: number | null;
  failed_since_success: number;
  last_success_at_ms: number | null;
  health_changed_at_ms: number | null;
  health_reason: string | null;
  health_version: number;
}): EndpointHealthRecord {
  return {
    state: r.health_state as EndpointHealthState,
    consecutiveFailures: Number(r.consecutive_failures),
    firstFailureAtMs: num(r.first_failure_at_ms),
    failedSinceSuccess: Number(r.failed_since_success),
    lastSuccessAtMs: num(r.last_success_at_ms),
    changedAtMs: num(r.health_changed_at_ms),
    reason: r.health_reason as HealthChangeReason | null,
    version: Number(r.health_version),
  };
}

const toEndpoint = (r: EndpointRow): EndpointRecord => ({
  id: r.id as EndpointId,
  projectId: r.project_id as ProjectId,
  url: r.url,
  name: r.name,
  description: r.description,
  eventTypes: JSON.parse(r.event_types) as string[],
  objectTypes: JSON.parse(r.object_types) as string[],
  headers: JSON.parse(r.headers) as Record<string, string>,
  rateLimitPerSecond: num(r.rate_limit_per_second),
  maxConcurrency: num(r.max_concurrency),
  timeoutMs: Number(r.timeout_ms),
  signatureScheme: r.signature_scheme as SignatureScheme,
  signatureHeader: r.signature_header,
  secretsSealed: r.secrets_sealed,
  enabled: Number(r.enabled) === 1,
  health: toHealth(r),
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});

const toMessage = (r: MessageRow): MessageRecord => ({
  id: r.id as MessageId,
  projectId: r.project_id as ProjectId,
  eventType: r.event_type,
  objectType: r.object_type,
  credentialId: r.credential_id,
  userId: r.user_id,
  orderingKey: r.ordering_key,
  idempotencyKey: r.idempotency_key,
  body: r.body,
  createdAtMs: Number(r.created_at_ms),
});

const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id as DeliveryId,
  projectId: r.project_id as ProjectId,
  messageId: r.message_id as MessageId,
  endpointId: r.endpoint_id as EndpointId,
  orderingKey: r.ordering_key,
  status: r.status as DeliveryStatus,
  attemptCount: Number(r.attempt_count),
  schedulePosition: Number(r.schedule_position),
  // A leased delivery is attempted again at the latest when its lease ends.
  nextAttemptAtMs: Math.max(Number(r.next_attempt_at_ms), Number(r.leased_until_ms ?? 0)),
  lastAttemptAtMs: num(r.last_attempt_at_ms),
  lastStatusCode: num(r.last_status_code),
  lastFailureKind: r.last_failure_kind as DeliveryFailureKind | null,
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});

const toAttempt = (r: AttemptRow): AttemptRecord => ({
  id: r.id as AttemptId,
  projectId: r.project_id as ProjectId,
  deliveryId: r.delivery_id as DeliveryId,
  messageId: r.message_id as MessageId,
  endpointId: r.endpoint_id as EndpointId,
  attemptNumber: Number(r.attempt_number),
  startedAtMs: Number(r.started_at_ms),
  durationMs: Number(r.duration_ms),
  outcome: r.outcome as 'succeeded' | 'failed',
  statusCode: num(r.status_code),
  errorKind: r.error_kind as DeliveryErrorKind | null,
  errorMessage: r.error_message,
  responseHeaders: JSON.parse(r.response_headers) as Record<string, string>,
  responseBody: r.response_body,
  responseBodyTruncated: Number(r.response_body_truncated) === 1,
  nextAttemptAtMs: num(r.next_attempt_at_ms),
});

function toClaimed(r: ClaimRow): ClaimedDelivery {
  return {
    id: r.id as DeliveryId,
    projectId: r.project_id as ProjectId,
    messageId: r.message_id as MessageId,
    endpointId: r.endpoint_id as EndpointId,
    orderingKey: r.ordering_key,
    attemptCount: Number(r.attempt_count),
    schedulePosition: Number(r.schedule_position),
    body: r.body,
    credentialId: r.credential_id,
    userId: r.user_id,
    endpoint:
      r.endpoint_updated_at_ms === null
        ? null
        : {
            updatedAtMs: Number(r.endpoint_updated_at_ms),
            enabled: Number(r.enabled) === 1,
            healthState: r.health_state as EndpointHealthState,
            consecutiveFailures: Number(r.consecutive_failures),
          },
    retryDelaysMs: r.retry_delays_ms === null ? null : (JSON.parse(r.retry_delays_ms) as number[]),
    egressAllow: r.egress_allow === null ? null : (JSON.parse(r.egress_allow) as string[]),
  };
}

function pageOf<T extends { id: string }>(
  rows: T[],
  limit: number,
): { rows: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  return { rows: items, nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
}

/**
 * Lists of values as `IN (…)` or multi-row `VALUES` are padded or chunked to a few fixed sizes,
 * so the number of distinct statements (each prepared and cached by the drivers) stays small.
 */
const SIZES = [1024, 256, 64, 16, 4, 1] as const;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  while (i < items.length) {
    const left = items.length - i;
    const size = SIZES.find((s) => s <= left) ?? 1;
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

/** `?, ?, …` padded to a fixed size with a value that matches nothing (ids are never empty). */
function paddedIn(values: readonly string[]): { marks: string; params: string[] } {
  const size = [...SIZES].reverse().find((s) => s >= values.length) ?? values.length;
  const params = [...values];
  while (params.length < size) params.push('');
  return { marks: params.map(() => '?').join(', '), params };
}

const ENDPOINT_COLUMNS = [
  'url',
  'name',
  'description',
  'event_types',
  'object_types',
  'headers',
  'rate_limit_per_second',
  'max_concurrency',
  'timeout_ms',
  'signature_scheme',
  'signature_header',
  'secrets_sealed',
  'enabled',
  'updated_at_ms',
];

const endpointConfig = (e: EndpointRecord): SqlValue[] => [
  e.url,
  e.name,
  e.description,
  JSON.stringify(e.eventTypes),
  JSON.stringify(e.objectTypes),
  JSON.stringify(e.headers),
  e.rateLimitPerSecond,
  e.maxConcurrency,
  e.timeoutMs,
  e.signatureScheme,
  e.signatureHeader,
  e.secretsSealed,
  e.enabled ? 1 : 0,
  e.updatedAtMs,
];

const HEALTH_COLUMNS = [
  'health_state',
  'consecutive_failures',
  'first_failure_at_ms',
  'failed_since_success',
  'last_success_at_ms',
  'health_changed_at_ms',
  'health_reason',
];

const healthValues = (h: Omit<EndpointHealthRecord, 'version'>): SqlValue[] => [
  h.state,
  h.consecutiveFailures,
  h.firstFailureAtMs,
  h.failedSinceSuccess,
  h.lastSuccessAtMs,
  h.changedAtMs,
  h.reason,
];

const MESSAGE_COLUMNS =
  'id, project_id, event_type, object_type, credential_id, user_id, ordering_key, idempotency_key, body, created_at_ms, delivery_ids';
const DELIVERY_COLUMNS =
  'id, project_id, message_id, endpoint_id, ordering_key, status, attempt_count, schedule_position, next_attempt_at_ms, last_attempt_at_ms, last_status_code, last_failure_kind, created_at_ms, updated_at_ms, leased_until_ms';
const ATTEMPT_COLUMNS =
  'id, project_id, delivery_id, message_id, endpoint_id, attempt_number, started_at_ms, duration_ms, outcome, status_code, error_kind, error_message, response_headers, response_body, response_body_truncated, next_attempt_at_ms';

// The key row names the newest message that used the key; it is taken over only once it is older
// than the window, so concurrent publishers agree on one winner.
const IDEMPOTENCY_UPSERT = `INSERT INTO message_idempotency_keys (project_id, idempotency_key, message_id, created_at_ms) VALUES (?, ?, ?, ?)
  ON CONFLICT (project_id, idempotency_key) DO UPDATE SET message_id = excluded.message_id, created_at_ms = excluded.created_at_ms
  WHERE message_idempotency_keys.created_at_ms < ? RETURNING message_id`;
const IDEMPOTENCY_SELECT =
  'SELECT message_id FROM message_idempotency_keys WHERE project_id = ? AND idempotency_key = ?';
const MESSAGE_FIELDS = MESSAGE_COLUMNS.split(', ');
/** A message as read back (MessageRow): its delivery list stays in the store. */
const MESSAGE_READ_COLUMNS = MESSAGE_FIELDS.filter((c) => c !== 'delivery_ids').join(', ');
const DELIVERY_FIELDS = DELIVERY_COLUMNS.split(', ');
const ATTEMPT_FIELDS = ATTEMPT_COLUMNS.split(', ');
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const INSERT_MESSAGE = `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES (${marks(MESSAGE_FIELDS.length)})`;
const INSERT_DELIVERY = `INSERT INTO deliveries (${DELIVERY_COLUMNS}) VALUES (${marks(DELIVERY_FIELDS.length)})`;
const INSERT_ATTEMPT = `INSERT INTO attempts (${ATTEMPT_COLUMNS}) VALUES (${marks(ATTEMPT_FIELDS.length)})`;
// A delivery that is not pending any more (disabled meanwhile, or finished by a worker that
// re-claimed it after a lease ran out) keeps its state; the attempt is recorded all the same. The
// state an outcome applies to ('pending') is the row's last value, as on PostgreSQL (see
// PG_OUTCOME_RECORD), so both stores take the same rows.
const COMPLETE_DELIVERY = `UPDATE deliveries SET status = ?, next_attempt_at_ms = ?, updated_at_ms = ?,
  attempt_count = attempt_count + ?, schedule_position = schedule_position + ?,
  last_attempt_at_ms = COALESCE(?, last_attempt_at_ms),
  last_status_code = CASE WHEN ? = 1 THEN ? ELSE last_status_code END,
  last_failure_kind = ?, leased_until_ms = NULL WHERE id = ? AND status = ?`;

function completionValues(c: DeliveryCompletion): SqlValue[] {
  const made = c.attempt !== null ? 1 : 0;
  return [
    c.status,
    c.nextAttemptAtMs,
    c.updatedAtMs,
    made,
    made,
    c.attempt?.startedAtMs ?? null,
    made,
    c.attempt?.statusCode ?? null,
    c.lastFailureKind,
    c.deliveryId,
    'pending',
  ];
}

const PG_MESSAGE_RECORD =
  'id text, project_id text, event_type text, object_type text, credential_id text, user_id text, ordering_key text, idempotency_key text, body text, created_at_ms bigint, delivery_ids text';
const PG_DELIVERY_RECORD =
  'id text, project_id text, message_id text, endpoint_id text, ordering_key text, status text, attempt_count integer, schedule_position integer, next_attempt_at_ms bigint, last_attempt_at_ms bigint, last_status_code integer, last_failure_kind text, created_at_ms bigint, updated_at_ms bigint, leased_until_ms bigint';
const PG_ATTEMPT_RECORD =
  'id text, project_id text, delivery_id text, message_id text, endpoint_id text, attempt_number integer, started_at_ms bigint, duration_ms bigint, outcome text, status_code integer, error_kind text, error_message text, response_headers text, response_body text, response_body_truncated smallint, next_attempt_at_ms bigint';
/**
 * An outcome row as completionValues lays it out (made appears three times; the last value is
 * 'pending': the state an outcome applies to, as a value and not a constant in the statement, with
 * which the planner would prove the partial index deliveries_due applies and scan all of it).
 */
const PG_OUTCOME_RECORD =
  'status text, next bigint, updated bigint, made integer, made_count integer, started bigint, made_code integer, code integer, kind text, id text, pending text';

/**
 * PostgreSQL: one parameter, a JSON array of rows that are themselves arrays (in `record`'s
 * order, `name type, …`), read as a set of typed columns. Positional arrays, not objects: the
 * rows need no object per row on our side, and jsonb reads a field by position where
 * json_to_recordset hashes every row's keys (measured on a 256-row batch: 15 against 35 µs a
 * row, parameter building included; docs/benchmarks.md).
 */
function pgRowsOf(record: string, alias: string, tableColumns?: string): string {
  const fields = record.split(', ').map((c) => c.split(' ') as [string, string]);
  // The rows are positional: a record that lists the table's columns in another order would
  // store values in the wrong columns, so it fails here, when the module loads.
  if (tableColumns !== undefined && fields.map(([name]) => name).join(', ') !== tableColumns)
    throw new Error(`PostgreSQL record out of step with its columns: ${record}`);
  const columns = fields.map(([name, type], i) => `CAST(${alias}->>${i} AS ${type}) AS ${name}`);
  return `SELECT ${columns.join(', ')} FROM jsonb_array_elements(CAST(? AS jsonb)) AS ${alias}`;
}

const PG_INSERT_MESSAGES = `WITH m AS (
    INSERT INTO messages (${MESSAGE_COLUMNS}) ${pgRowsOf(PG_MESSAGE_RECORD, 'x', MESSAGE_COLUMNS)}
  )
  INSERT INTO deliveries (${DELIVERY_COLUMNS}) ${pgRowsOf(PG_DELIVERY_RECORD, 'y', DELIVERY_COLUMNS)}`;
export const PG_COMPLETE_DELIVERIES = `WITH a AS (
    INSERT INTO attempts (${ATTEMPT_COLUMNS}) ${pgRowsOf(PG_ATTEMPT_RECORD, 'x', ATTEMPT_COLUMNS)}
  )
  UPDATE deliveries SET status = v.status, next_attempt_at_ms = v.next, updated_at_ms = v.updated,
    attempt_count = deliveries.attempt_count + v.made, schedule_position = deliveries.schedule_position + v.made,
    last_attempt_at_ms = COALESCE(v.started, deliveries.last_attempt_at_ms),
    last_status_code = CASE WHEN v.made = 1 THEN v.code ELSE deliveries.last_status_code END,
    last_failure_kind = v.kind, leased_until_ms = NULL
  FROM (${pgRowsOf(PG_OUTCOME_RECORD, 'r')}) AS v
  WHERE deliveries.id = v.id AND deliveries.status = v.pending`;
/** The outcome statement's second parameter: completion rows (completionValues) as PG_OUTCOME_RECORD. */
export function pgOutcomeRows(outcomes: readonly SqlValue[][]): string {
  return JSON.stringify(outcomes);
}

/**
 * PostgreSQL: the settings of the connections that claim deliveries and record outcomes
 * (Db.withSettings), so each is one statement and one round trip instead of BEGIN, SET LOCAL, the
 * statement and COMMIT. Rows are found through indexes only, joins by nested loops on them: a fresh
 * or fast-growing table has no statistics yet, and the planner would rather sort every pending row
 * for a claim, or read the whole backlog through deliveries_due for a batch of outcomes or a
 * release (test/store/postgres-plans.test.ts). Their commits do not wait for the WAL flush: a lost
 * lease, release or outcome is harmless (offload-jobs.ts, LAZY_DURABILITY_JOBS). Nothing else runs
 * on these connections.
 */
export const PG_HOT_PATH_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  enable_seqscan: 'off',
  enable_bitmapscan: 'off',
  enable_hashjoin: 'off',
  enable_mergejoin: 'off',
  synchronous_commit: 'off',
});
/** SQLite: gives claimed deliveries back (`marks` from paddedIn). */
export const releaseDeliveriesSql = (marks: string): string =>
  `UPDATE deliveries SET next_attempt_at_ms = ?, leased_until_ms = NULL WHERE status = 'pending' AND id IN (${marks})`;
/**
 * PostgreSQL: gives claimed deliveries back. Parameters: the new due time, then rows of
 * [id, 'pending'] (pgReleaseRows). The state is a value in each row, as in the outcome statement:
 * with `status = 'pending'` in the statement the planner may prove deliveries_due applies and scan
 * the whole pending backlog for the ids (seen in a benchmark run: 11-17 ms a release of 16, 2,800
 * rows read and dropped; test/store/postgres-plans.test.ts).
 */
export const PG_RELEASE_DELIVERIES = `UPDATE deliveries SET next_attempt_at_ms = ?, leased_until_ms = NULL
  FROM (${pgRowsOf('id text, pending text', 'r')}) AS v
  WHERE deliveries.id = v.id AND deliveries.status = v.pending`;
export function pgReleaseRows(ids: readonly string[]): string {
  return JSON.stringify(ids.map((id) => [id, 'pending']));
}

/**
 * A publish batch as rows. Arrays of primitives clone cheaply to the SQLite writer thread; objects
 * would repeat every property name per message (measured: ~7 µs a message, ~15 µs an outcome).
 */
export interface MessageRows {
  /** In MESSAGE_COLUMNS order. */
  message: SqlValue[];
  /** In DELIVERY_COLUMNS order. */
  deliveries: SqlValue[][];
  idempotencyNotBeforeMs: number | null;
}
// Positions in a message row that the idempotency check reads.
const M_ID = 0;
const M_PROJECT = 1;
const M_IDEMPOTENCY_KEY = 7;
const M_CREATED = 9;

/** messages.delivery_ids: the message's deliveries, by id, in creation order. */
function deliveryIdList(deliveries: ReadonlyArray<{ id: string }>): string {
  return deliveries.map((d) => d.id).join(',');
}

/** The ids in a messages.delivery_ids list (empty for a message that matched no endpoint). */
function deliveryIdsOf(list: string | null | undefined): string[] {
  return list ? list.split(',') : [];
}

/**
 * The deliveries a message's delivery_ids `list` names, in its order (creation order), with
 * `columns` (which must include id), each found by primary key. A delivery deleted with its
 * endpoint is left in the list and simply not found.
 */
async function messageDeliveries<T extends { id: string }>(
  tx: SqlExecutor,
  projectId: string,
  list: string | undefined,
  columns: string,
): Promise<T[]> {
  const ids = deliveryIdsOf(list);
  const rows: T[] = [];
  for (const chunk of chunks(ids)) {
    const p = paddedIn(chunk);
    rows.push(
      ...(await tx.all<T>(`SELECT ${columns} FROM deliveries WHERE project_id = ? AND id IN (${p.marks})`, [
        projectId,
        ...p.params,
      ])),
    );
  }
  const order = new Map(ids.map((id, i) => [id, i]));
  return rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
}

export function toMessageRows(batch: readonly NewMessage[]): MessageRows[] {
  return batch.map(({ message: m, deliveries, idempotencyNotBeforeMs }) => ({
    message: [
      m.id,
      m.projectId,
      m.eventType,
      m.objectType,
      m.credentialId,
      m.userId,
      m.orderingKey,
      m.idempotencyKey,
      m.body,
      m.createdAtMs,
      deliveryIdList(deliveries),
    ],
    deliveries: deliveries.map((d) => [
      d.id,
      m.projectId,
      m.id,
      d.endpointId,
      m.orderingKey,
      d.status,
      0,
      0,
      // A delivery handed to this process's worker at publish is due when its lease ends, not
      // now: due now, it would sit at the head of deliveries_due while in flight, and every claim
      // would step over it (an index entry and a heap visit each) to the work behind it.
      d.leasedUntilMs ?? m.createdAtMs,
      null,
      null,
      d.status === 'failed' ? 'endpoint_disabled' : null,
      m.createdAtMs,
      m.createdAtMs,
      d.leasedUntilMs ?? null,
    ]),
    idempotencyNotBeforeMs: m.idempotencyKey !== null ? (idempotencyNotBeforeMs ?? null) : null,
  }));
}

/**
 * Decides each message of a batch: a duplicate (an earlier message holds its idempotency key,
 * `earlierFor` names it) or new, with its rows. `earlierFor` returns null when the message may be stored.
 */
function planMessages(
  batch: readonly MessageRows[],
  earlierFor: (message: SqlValue[], notBeforeMs: number) => string | null,
): {
  results: Array<{ id: MessageId; duplicate: boolean }>;
  messageRows: SqlValue[][];
  deliveryRows: SqlValue[][];
} {
  const results: Array<{ id: MessageId; duplicate: boolean }> = [];
  const messageRows: SqlValue[][] = [];
  const deliveryRows: SqlValue[][] = [];
  for (const { message, deliveries, idempotencyNotBeforeMs } of batch) {
    if (idempotencyNotBeforeMs !== null) {
      const earlier = earlierFor(message, idempotencyNotBeforeMs);
      if (earlier !== null) {
        results.push({ id: earlier as MessageId, duplicate: true });
        continue;
      }
    }
    results.push({ id: message[M_ID] as MessageId, duplicate: false });
    messageRows.push(message);
    for (const d of deliveries) deliveryRows.push(d);
  }
  return { results, messageRows, deliveryRows };
}

/** Inserts rows with multi-row VALUES, in fixed-size chunks. */
async function insertRows(
  tx: SqlExecutor,
  table: string,
  columns: string,
  rows: readonly SqlValue[][],
): Promise<void> {
  const width = columns.split(',').length;
  const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  for (const chunk of chunks(rows)) {
    await tx.run(
      `INSERT INTO ${table} (${columns}) VALUES ${chunk.map(() => tuple).join(', ')}`,
      chunk.flat(),
    );
  }
}

const attemptValues = (a: AttemptRecord): SqlValue[] => [
  a.id,
  a.projectId,
  a.deliveryId,
  a.messageId,
  a.endpointId,
  a.attemptNumber,
  a.startedAtMs,
  a.durationMs,
  a.outcome,
  a.statusCode,
  a.errorKind,
  a.errorMessage,
  JSON.stringify(a.responseHeaders),
  a.responseBody,
  a.responseBodyTruncated ? 1 : 0,
  a.nextAttemptAtMs,
];

/**
 * SQLite: a publish batch in the caller's transaction (prepared statements, no promise per row);
 * also the writer thread's job (offload-jobs.ts).
 */
export function insertMessagesSync(
  tx: SyncExecutor,
  batch: readonly MessageRows[],
): Array<{ id: MessageId; duplicate: boolean }> {
  const { results, messageRows, deliveryRows } = planMessages(batch, (m, notBeforeMs) => {
    const params = [m[M_PROJECT] ?? null, m[M_IDEMPOTENCY_KEY] ?? null];
    const won = tx.all<{ message_id: string }>(IDEMPOTENCY_UPSERT, [
      ...params,
      m[M_ID] ?? null,
      m[M_CREATED] ?? null,
      notBeforeMs,
    ])[0];
    if (won) return null;
    return tx.all<{ message_id: string }>(IDEMPOTENCY_SELECT, params)[0]?.message_id ?? (m[M_ID] as string);
  });
  for (const row of messageRows) tx.run(INSERT_MESSAGE, row);
  for (const row of deliveryRows) tx.run(INSERT_DELIVERY, row);
  return results;
}

/** Delivery outcomes as rows (see MessageRows for why): attempts to insert, deliveries to update. */
export interface CompletionRows {
  attempts: SqlValue[][];
  outcomes: SqlValue[][];
}

export function toCompletionRows(completions: readonly DeliveryCompletion[]): CompletionRows {
  const attempts: SqlValue[][] = [];
  for (const c of completions) if (c.attempt) attempts.push(attemptValues(c.attempt));
  return { attempts, outcomes: completions.map(completionValues) };
}

/** SQLite: delivery outcomes and their attempts in the caller's transaction; also a writer-thread job. */
export function completeDeliveriesSync(tx: SyncExecutor, rows: CompletionRows): void {
  for (const row of rows.attempts) tx.run(INSERT_ATTEMPT, row);
  for (const row of rows.outcomes) tx.run(COMPLETE_DELIVERY, row);
}

/**
 * SQLite: claimed deliveries given back unattempted, in the caller's transaction; also a
 * writer-thread job (with lazy durability, as claims: a release lost to a power cut leaves its
 * deliveries leased until the lease ends, and they are claimed then).
 */
export function releaseDeliveriesSync(
  tx: SyncExecutor,
  input: { ids: readonly string[]; nextAttemptAtMs: number },
): void {
  for (const chunk of chunks(input.ids)) {
    const p = paddedIn(chunk);
    tx.run(releaseDeliveriesSql(p.marks), [input.nextAttemptAtMs, ...p.params]);
  }
}

/** A SQLite claim, decided by the caller (the filter is SQL built by claimDueDeliveries). */
export interface SqliteClaim {
  filter: string;
  filterParams: SqlValue[];
  candidates: number;
  limit: number;
  perEndpointLimit: number;
  endpointLimits: Record<string, number>;
  projectLimits: Record<string, number>;
  leasedUntilMs: number;
}

/**
 * SQLite: reads a window of the oldest due rows, picks up to each endpoint's cap, leases them and
 * returns them with their message bodies; a writer-thread job (the rows clone back to the event
 * loop, the SQL work stays off it).
 */
export function claimDueSync(tx: SyncExecutor, c: SqliteClaim): ClaimRow[] {
  // Read lazily: once `limit` rows are picked the rest of the candidate window is never read.
  const rows = tx.iterate<{ id: string; endpoint_id: string; project_id: string }>(
    `SELECT d.id, d.endpoint_id, d.project_id FROM deliveries d WHERE ${c.filter} ORDER BY d.next_attempt_at_ms, d.seq LIMIT ?`,
    [...c.filterParams, c.candidates],
  );
  const perEndpoint = new Map<string, number>();
  const perProject = new Map<string, number>();
  const picked: string[] = [];
  for (const r of rows) {
    const n = perEndpoint.get(r.endpoint_id) ?? 0;
    if (n >= (c.endpointLimits[r.endpoint_id] ?? c.perEndpointLimit)) continue;
    const projectLimit = c.projectLimits[r.project_id];
    const p = perProject.get(r.project_id) ?? 0;
    if (projectLimit !== undefined && p >= projectLimit) continue;
    perEndpoint.set(r.endpoint_id, n + 1);
    perProject.set(r.project_id, p + 1);
    picked.push(r.id);
    if (picked.length >= c.limit) break;
  }
  const out: ClaimRow[] = [];
  for (const chunk of chunks(picked)) {
    const ids = paddedIn(chunk);
    tx.run(`UPDATE deliveries SET leased_until_ms = ? WHERE id IN (${ids.marks})`, [
      c.leasedUntilMs,
      ...ids.params,
    ]);
    out.push(
      ...tx.all<ClaimRow>(
        `${CLAIM_SELECT} FROM deliveries d ${CLAIM_JOINS} WHERE d.id IN (${ids.marks}) ORDER BY d.seq`,
        ids.params,
      ),
    );
  }
  return out;
}

/** With a per-endpoint cap, claims look at this many times `limit` of the oldest due rows. */
const CANDIDATE_FACTOR = 4;

/** What CLAIM_SELECT reads of a claimed row (named, not `*`, so the claim can be prepared). */
const CLAIMED_COLUMNS = [
  'id',
  'project_id',
  'message_id',
  'endpoint_id',
  'ordering_key',
  'attempt_count',
  'schedule_position',
  'seq',
]
  .map((c) => `deliveries.${c}`)
  .join(', ');
const CLAIM_SELECT = `SELECT d.id, d.project_id, d.message_id, d.endpoint_id, d.ordering_key, d.attempt_count, d.schedule_position, d.seq,
  m.body, m.credential_id, m.user_id,
  e.updated_at_ms AS endpoint_updated_at_ms, e.enabled, e.health_state, e.consecutive_failures,
  s.retry_delays_ms, s.egress_allow`;
const CLAIM_JOINS = `JOIN messages m ON m.id = d.message_id
  LEFT JOIN endpoints e ON e.id = d.endpoint_id
  LEFT JOIN delivery_settings s ON s.project_id = d.project_id`;
// With an ordering key, only the earliest pending delivery per (endpoint, key) may go: a claimed
// one stays pending until it finishes, so the next waits for it (one at a time, in publish order).
const FIFO_GUARD = `(d.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries p
  WHERE p.endpoint_id = d.endpoint_id AND p.ordering_key = d.ordering_key AND p.status = 'pending' AND p.seq < d.seq))`;

/** The database's clock in epoch ms: leases are compared on one clock, whatever the hosts' say. */
function dbNowMs(dialect: Db['dialect']): string {
  return dialect === 'postgres'
    ? 'CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)'
    : "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
}

/** A claim's filter on leases: skip endpoints another holder (the one parameter) holds now. */
function leaseGuard(dialect: Db['dialect']): string {
  return `NOT EXISTS (SELECT 1 FROM endpoint_leases l
    WHERE l.endpoint_id = d.endpoint_id AND l.holder <> ? AND l.until_ms > ${dbNowMs(dialect)})`;
}

/**
 * Which due deliveries a claim may take (both dialects): pending and due, not of an excluded
 * endpoint or project, first of their ordering key, and (with a lease holder) of an endpoint no
 * other process holds. The marks are paddedIn's.
 */
export function claimFilter(
  dialect: Db['dialect'],
  endpointMarks: string,
  projectMarks: string,
  leased: boolean,
): string {
  return `d.status = 'pending' AND d.next_attempt_at_ms <= ? AND (d.leased_until_ms IS NULL OR d.leased_until_ms <= ?)
        AND d.endpoint_id NOT IN (${endpointMarks}) AND d.project_id NOT IN (${projectMarks})
        AND ${FIFO_GUARD}${leased ? ` AND ${leaseGuard(dialect)}` : ''}`;
}

/**
 * PostgreSQL's claim as one statement. Parameters: the filter's, then the candidate window, the
 * per-endpoint limits (JSON), the default per-endpoint limit, the per-project limits (JSON; a
 * project not named has none but the claim's), the claim's limit, the lease's end. A row over its
 * endpoint's cap does not count toward its project's.
 */
export function pgClaimSql(filter: string): string {
  return `WITH candidates AS (
             SELECT d.id, d.project_id, d.endpoint_id, d.next_attempt_at_ms, d.seq FROM deliveries d WHERE ${filter}
             ORDER BY d.next_attempt_at_ms, d.seq LIMIT ? FOR UPDATE OF d SKIP LOCKED
           ), ranked AS (
             SELECT id, project_id, endpoint_id, next_attempt_at_ms, seq,
               row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at_ms, seq) AS n
             FROM candidates
           ), capped AS (
             SELECT r.id, r.project_id, r.next_attempt_at_ms, r.seq,
               row_number() OVER (PARTITION BY r.project_id ORDER BY r.next_attempt_at_ms, r.seq) AS pn
             FROM ranked r LEFT JOIN jsonb_each_text(CAST(? AS jsonb)) lim ON lim.key = r.endpoint_id
             WHERE r.n <= COALESCE(CAST(lim.value AS integer), ?)
           ), picked AS (
             SELECT c.id FROM capped c LEFT JOIN jsonb_each_text(CAST(? AS jsonb)) plim ON plim.key = c.project_id
             WHERE plim.value IS NULL OR c.pn <= CAST(plim.value AS integer)
             ORDER BY c.next_attempt_at_ms, c.seq LIMIT ?
           ), claimed AS (
             UPDATE deliveries SET leased_until_ms = ? FROM picked WHERE deliveries.id = picked.id RETURNING ${CLAIMED_COLUMNS}
           )
           ${CLAIM_SELECT} FROM claimed d ${CLAIM_JOINS} ORDER BY d.seq`;
}

export function createDeliveryQueries(db: Db): DeliveryStore {
  /** PostgreSQL: claims and outcomes, each one statement on connections set for them. */
  let hot: SqlExecutor | undefined;
  const hotPath = (): SqlExecutor => {
    if (!db.withSettings) throw new Error('the PostgreSQL driver has no connections with settings');
    hot ??= db.withSettings(PG_HOT_PATH_SETTINGS);
    return hot;
  };
  async function getEventType(projectId: ProjectId, name: string): Promise<EventTypeRecord | null> {
    const row = await db.get<EventTypeRow>('SELECT * FROM event_types WHERE project_id = ? AND name = ?', [
      projectId,
      name,
    ]);
    return row ? toEventType(row) : null;
  }
  return {
    async insertEndpoint(e) {
      await db.run(
        `INSERT INTO endpoints (${ENDPOINT_COLUMNS.join(', ')}, ${HEALTH_COLUMNS.join(', ')}, health_version, id, project_id, created_at_ms) VALUES (${[...ENDPOINT_COLUMNS, ...HEALTH_COLUMNS, 'v', 'id', 'project_id', 'created_at_ms'].map(() => '?').join(', ')})`,
        [...endpointConfig(e), ...healthValues(e.health), e.health.version, e.id, e.projectId, e.createdAtMs],
      );
    },
    async getEndpoint(projectId, id) {
      const row = await db.get<EndpointRow>('SELECT * FROM endpoints WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ]);
      return row ? toEndpoint(row) : null;
    },
    async getEndpointForDelivery(id) {
      const row = await db.get<EndpointRow>('SELECT * FROM endpoints WHERE id = ?', [id]);
      return row ? toEndpoint(row) : null;
    },
    async listEndpoints(projectId, { limit, after }) {
      const rows = await db.all<EndpointRow>(
        'SELECT * FROM endpoints WHERE project_id = ? AND id > ? ORDER BY id LIMIT ?',
        [projectId, after ?? '', limit + 1],
      );
      const page = pageOf(rows, limit);
      return { items: page.rows.map(toEndpoint), nextCursor: page.nextCursor };
    },
    async listEndpointRoutes(projectId) {
      const rows = await db.all<{
        id: string;
        event_types: string;
        object_types: string;
        enabled: number;
        health_state: string;
        consecutive_failures: number;
        updated_at_ms: number;
        limited: number | boolean;
        retry_delays_ms: string | null;
        egress_allow: string | null;
      }>(
        `SELECT e.id, e.event_types, e.object_types, e.enabled, e.health_state, e.consecutive_failures, e.updated_at_ms,
           (e.max_concurrency IS NOT NULL OR e.rate_limit_per_second IS NOT NULL) AS limited,
           s.retry_delays_ms, s.egress_allow
         FROM endpoints e LEFT JOIN delivery_settings s ON s.project_id = e.project_id
         WHERE e.project_id = ? ORDER BY e.id`,
        [projectId],
      );
      return rows.map((r) => ({
        id: r.id as EndpointId,
        eventTypes: JSON.parse(r.event_types) as string[],
        objectTypes: JSON.parse(r.object_types) as string[],
        active: Number(r.enabled) === 1 && r.health_state !== 'disabled',
        updatedAtMs: Number(r.updated_at_ms),
        healthState: r.health_state as EndpointHealthState,
        consecutiveFailures: Number(r.consecutive_failures),
        limited: r.limited === true || Number(r.limited) === 1,
        retryDelaysMs: r.retry_delays_ms === null ? null : (JSON.parse(r.retry_delays_ms) as number[]),
        egressAllow: r.egress_allow === null ? null : (JSON.parse(r.egress_allow) as string[]),
      }));
    },
    async updateEndpoint(e) {
      const { changes } = await db.run(
        `UPDATE endpoints SET ${ENDPOINT_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ? AND project_id = ?`,
        [...endpointConfig(e), e.id, e.projectId],
      );
      return changes > 0;
    },
    async deleteEndpoint(projectId, id) {
      return db.transaction(async (tx) => {
        const { changes } = await tx.run('DELETE FROM endpoints WHERE project_id = ? AND id = ?', [
          projectId,
          id,
        ]);
        if (changes === 0) return false;
        // Through the endpoint's deliveries: attempts are keyed by delivery.
        await tx.run(
          'DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE project_id = ? AND endpoint_id = ?)',
          [projectId, id],
        );
        await tx.run('DELETE FROM deliveries WHERE project_id = ? AND endpoint_id = ?', [projectId, id]);
        await tx.run('DELETE FROM endpoint_leases WHERE endpoint_id = ?', [id]);
        return true;
      });
    },
    async getEndpointHealth(id) {
      const row = await db.get<EndpointRow>(
        `SELECT ${HEALTH_COLUMNS.join(', ')}, health_version FROM endpoints WHERE id = ?`,
        [id],
      );
      return row ? toHealth(row) : null;
    },
    async compareAndSetEndpointHealth(id, expectedVersion, next) {
      const { changes } = await db.run(
        `UPDATE endpoints SET ${HEALTH_COLUMNS.map((c) => `${c} = ?`).join(', ')}, health_version = ? WHERE id = ? AND health_version = ?`,
        [...healthValues(next), expectedVersion + 1, id, expectedVersion],
      );
      return changes > 0;
    },
    async failPendingDeliveries(endpointId, nowMs) {
      const { changes } = await db.run(
        "UPDATE deliveries SET status = 'failed', last_failure_kind = 'endpoint_disabled', updated_at_ms = ? WHERE endpoint_id = ? AND status = 'pending'",
        [nowMs, endpointId],
      );
      return changes;
    },

    async upsertEventType(t) {
      await db.run(
        'INSERT INTO event_types (project_id, name, description, example, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, name) DO UPDATE SET description = excluded.description, example = excluded.example, updated_at_ms = excluded.updated_at_ms',
        [
          t.projectId,
          t.name,
          t.description,
          t.example === null ? null : JSON.stringify(t.example),
          t.createdAtMs,
          t.updatedAtMs,
        ],
      );
      const stored = await getEventType(t.projectId, t.name);
      if (!stored) throw new Error('event type vanished after upsert');
      return stored;
    },
    getEventType,
    async listEventTypes(projectId) {
      const rows = await db.all<EventTypeRow>(
        'SELECT * FROM event_types WHERE project_id = ? ORDER BY name',
        [projectId],
      );
      return rows.map(toEventType);
    },

    async insertMessages(messages) {
      if (messages.length === 0) return [];
      const batch = toMessageRows(messages);
      if (db.offload) return db.offload('insertMessages', batch);
      if (db.transactionSync) return db.transactionSync((tx) => insertMessagesSync(tx, batch));
      // PostgreSQL: the rows go as JSON in one INSERT per table; without idempotency keys the whole
      // batch is one statement (atomic on its own), so a publish costs one round trip.
      const insert = (tx: SqlExecutor, messageRows: SqlValue[][], deliveryRows: SqlValue[][]) =>
        tx.run(PG_INSERT_MESSAGES, [JSON.stringify(messageRows), JSON.stringify(deliveryRows)]);
      if (batch.every((b) => b.idempotencyNotBeforeMs === null)) {
        const { results, messageRows, deliveryRows } = planMessages(batch, () => null);
        await insert(db, messageRows, deliveryRows);
        return results;
      }
      return db.transaction(async (tx) => {
        // In batch order, so a second use of a key in the same batch sees the first.
        const earlier = new Map<SqlValue | undefined, string | null>();
        for (const { message: m, idempotencyNotBeforeMs } of batch) {
          if (idempotencyNotBeforeMs === null) continue;
          const key = [m[M_PROJECT] ?? null, m[M_IDEMPOTENCY_KEY] ?? null];
          const won = await tx.get<{ message_id: string }>(IDEMPOTENCY_UPSERT, [
            ...key,
            m[M_ID] ?? null,
            m[M_CREATED] ?? null,
            idempotencyNotBeforeMs,
          ]);
          const existing = won ? undefined : await tx.get<{ message_id: string }>(IDEMPOTENCY_SELECT, key);
          earlier.set(m[M_ID], won ? null : (existing?.message_id ?? (m[M_ID] as string)));
        }
        const { results, messageRows, deliveryRows } = planMessages(
          batch,
          (m) => earlier.get(m[M_ID]) ?? null,
        );
        await insert(tx, messageRows, deliveryRows);
        return results;
      });
    },
    async getMessage(projectId, id) {
      const row = await db.get<MessageRow>(
        `SELECT ${MESSAGE_READ_COLUMNS} FROM messages WHERE project_id = ? AND id = ?`,
        [projectId, id],
      );
      return row ? toMessage(row) : null;
    },
    async listMessages(projectId, filter, { limit, after }): Promise<Page<MessageRecord>> {
      const where = ['project_id = ?'];
      const params: SqlValue[] = [projectId];
      if (after) {
        where.push('id < ?');
        params.push(after);
      }
      if (filter.eventType !== undefined) {
        where.push('event_type = ?');
        params.push(filter.eventType);
      }
      if (filter.credentialId !== undefined) {
        where.push('credential_id = ?');
        params.push(filter.credentialId);
      }
      params.push(limit + 1);
      const rows = await db.all<MessageRow>(
        `SELECT ${MESSAGE_READ_COLUMNS} FROM messages WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
        params,
      );
      const page = pageOf(rows, limit);
      return { items: page.rows.map(toMessage), nextCursor: page.nextCursor };
    },
    async listMessageDeliveries(projectId, messageId) {
      const message = await db.get<{ delivery_ids: string }>(
        'SELECT delivery_ids FROM messages WHERE project_id = ? AND id = ?',
        [projectId, messageId],
      );
      const deliveries = await messageDeliveries<DeliveryRow>(
        db,
        projectId,
        message?.delivery_ids,
        DELIVERY_COLUMNS,
      );
      if (deliveries.length === 0) return [];
      const attempts: AttemptRow[] = [];
      for (const chunk of chunks(deliveries.map((d) => d.id))) {
        const ids = paddedIn(chunk);
        attempts.push(
          ...(await db.all<AttemptRow>(
            `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE project_id = ? AND delivery_id IN (${ids.marks}) ORDER BY delivery_id, attempt_number`,
            [projectId, ...ids.params],
          )),
        );
      }
      return deliveries.map((d) => ({
        ...toDelivery(d),
        attempts: attempts.filter((a) => a.delivery_id === d.id).map(toAttempt),
      }));
    },
    async getDelivery(projectId, id) {
      const row = await db.get<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE project_id = ? AND id = ?`,
        [projectId, id],
      );
      return row ? toDelivery(row) : null;
    },
    async resendMessage(projectId, messageId, nowMs, target) {
      return db.transaction(async (tx) => {
        // The message row first, locked on PostgreSQL: two resends of it to a new endpoint then
        // take turns, and the second finds the delivery the first added to the list.
        const message = await tx.get<{ ordering_key: string | null; delivery_ids: string }>(
          `SELECT ordering_key, delivery_ids FROM messages WHERE project_id = ? AND id = ?${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`,
          [projectId, messageId],
        );
        if (!message) return [];
        const deliveries = await messageDeliveries<{ id: string; status: string; endpoint_id: string }>(
          tx,
          projectId,
          message.delivery_ids,
          'id, status, endpoint_id',
        );
        if (!target) {
          const again = deliveries.filter((d) => d.status !== 'pending').map((d) => d.id);
          const resent: DeliveryId[] = [];
          for (const chunk of chunks(again)) {
            const p = paddedIn(chunk);
            const rows = await tx.all<{ id: string }>(
              `UPDATE deliveries SET status = 'pending', schedule_position = 0, next_attempt_at_ms = ?, leased_until_ms = NULL, updated_at_ms = ? WHERE project_id = ? AND status <> 'pending' AND id IN (${p.marks}) RETURNING id`,
              [nowMs, nowMs, projectId, ...p.params],
            );
            for (const r of rows) resent.push(r.id as DeliveryId);
          }
          return resent;
        }
        const existing = deliveries.find((d) => d.endpoint_id === target.endpointId);
        if (existing) {
          if (existing.status === 'pending') return [];
          await tx.run(
            "UPDATE deliveries SET status = 'pending', schedule_position = 0, next_attempt_at_ms = ?, leased_until_ms = NULL, updated_at_ms = ? WHERE id = ?",
            [nowMs, nowMs, existing.id],
          );
          return [existing.id as DeliveryId];
        }
        await insertRows(tx, 'deliveries', DELIVERY_COLUMNS, [
          [
            target.newDeliveryId,
            projectId,
            messageId,
            target.endpointId,
            message.ordering_key,
            'pending',
            0,
            0,
            nowMs,
            null,
            null,
            null,
            nowMs,
            nowMs,
            null,
          ],
        ]);
        await tx.run('UPDATE messages SET delivery_ids = ? WHERE project_id = ? AND id = ?', [
          [...deliveryIdsOf(message.delivery_ids), target.newDeliveryId].join(','),
          projectId,
          messageId,
        ]);
        return [target.newDeliveryId];
      });
    },
    async recoverEndpoint(projectId, endpointId, sinceMs, nowMs) {
      const { changes } = await db.run(
        "UPDATE deliveries SET status = 'pending', schedule_position = 0, next_attempt_at_ms = ?, leased_until_ms = NULL, updated_at_ms = ? WHERE project_id = ? AND endpoint_id = ? AND status = 'failed' AND created_at_ms >= ?",
        [nowMs, nowMs, projectId, endpointId, sinceMs],
      );
      return changes;
    },

    async claimDueDeliveries({
      limit,
      nowMs,
      leaseMs,
      perEndpointLimit = limit,
      endpointLimits = {},
      projectLimits = {},
      excludeEndpointIds = [],
      excludeProjectIds = [],
      candidateWindow = 'wide',
      leaseHolder,
    }) {
      const endpoints = paddedIn(excludeEndpointIds);
      const projects = paddedIn(excludeProjectIds);
      const filter = claimFilter(db.dialect, endpoints.marks, projects.marks, leaseHolder !== undefined);
      const filterParams = [
        nowMs,
        nowMs,
        ...endpoints.params,
        ...projects.params,
        ...(leaseHolder === undefined ? [] : [leaseHolder]),
      ];
      // Candidates are a bounded window of the oldest due rows; the per-endpoint cap picks from them.
      const capped =
        perEndpointLimit < limit ||
        Object.keys(endpointLimits).length > 0 ||
        Object.keys(projectLimits).length > 0;
      const candidates = capped && candidateWindow === 'wide' ? limit * CANDIDATE_FACTOR : limit;
      if (db.dialect === 'postgres') {
        // One statement: lock (skipping rows other workers hold), cap per endpoint, push the
        // lease, join the bodies. Candidates not picked are unlocked when the statement ends. The
        // oldest due rows come off the partial index in order (PG_HOT_PATH_SETTINGS). The
        // returned columns are named, so the statement can be prepared (postgres-db.ts).
        const rows = await hotPath().all<ClaimRow>(pgClaimSql(filter), [
          ...filterParams,
          candidates,
          JSON.stringify(endpointLimits),
          perEndpointLimit,
          JSON.stringify(projectLimits),
          limit,
          nowMs + leaseMs,
        ]);
        return rows.map(toClaimed);
      }
      const claim: SqliteClaim = {
        filter,
        filterParams,
        candidates,
        limit,
        perEndpointLimit,
        endpointLimits,
        projectLimits,
        leasedUntilMs: nowMs + leaseMs,
      };
      if (db.offload) return (await db.offload('claimDueDeliveries', claim)).map(toClaimed);
      if (db.transactionSync)
        return (await db.transactionSync((tx) => claimDueSync(tx, claim))).map(toClaimed);
      throw new Error('claimDueDeliveries: no claim strategy for this driver');
    },
    async releaseDeliveries(ids, nextAttemptAtMs) {
      if (ids.length === 0) return;
      const input = { ids, nextAttemptAtMs };
      if (db.offload) return db.offload('releaseDeliveries', input);
      if (db.transactionSync) return db.transactionSync((tx) => releaseDeliveriesSync(tx, input));
      // PostgreSQL: one statement on the hot path's connections (PG_HOT_PATH_SETTINGS), each row
      // found by primary key, not BEGIN, the settings, the update and COMMIT: four round trips.
      // Lazily durable, as on SQLite (LAZY_DURABILITY_JOBS).
      await hotPath().run(PG_RELEASE_DELIVERIES, [nextAttemptAtMs, pgReleaseRows(ids)]);
    },
    async holdEndpointLeases(holder, endpointIds, leaseMs) {
      const held: EndpointId[] = [];
      for (const chunk of chunks([...new Set(endpointIds)])) {
        const now = dbNowMs(db.dialect);
        // An upsert whose update applies only to a free, expired or own lease: the row lock
        // makes a second asker wait for the first's commit, then see the lease taken.
        const rows = await db.all<{ endpoint_id: string }>(
          `INSERT INTO endpoint_leases (endpoint_id, holder, until_ms) VALUES ${chunk.map(() => `(?, ?, ${now} + ?)`).join(', ')}
           ON CONFLICT (endpoint_id) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
           WHERE endpoint_leases.holder = excluded.holder OR endpoint_leases.until_ms <= ${now}
           RETURNING endpoint_id`,
          chunk.flatMap((id) => [id, holder, leaseMs]),
        );
        for (const r of rows) held.push(r.endpoint_id as EndpointId);
      }
      return held;
    },
    async releaseEndpointLeases(holder, endpointIds) {
      for (const chunk of chunks(endpointIds)) {
        const p = paddedIn(chunk);
        await db.run(`DELETE FROM endpoint_leases WHERE holder = ? AND endpoint_id IN (${p.marks})`, [
          holder,
          ...p.params,
        ]);
      }
    },
    async completeDeliveries(completions) {
      if (completions.length === 0) return;
      const rows = toCompletionRows(completions);
      if (db.offload) return db.offload('completeDeliveries', rows);
      if (db.transactionSync) return db.transactionSync((tx) => completeDeliveriesSync(tx, rows));
      // PostgreSQL: attempts and outcomes as JSON, one statement, atomic, on the hot path's
      // connections (PG_HOT_PATH_SETTINGS). Each outcome finds its row by primary key (joins
      // forced to nested loops on it). With `status = 'pending'` as a constant the planner
      // instead read every pending row through the partial index and hash-joined: a batch cost
      // time in proportion to the backlog (3.6 ms a batch of ~30 with thousands pending,
      // pg_stat_statements).
      await hotPath().run(PG_COMPLETE_DELIVERIES, [
        JSON.stringify(rows.attempts),
        pgOutcomeRows(rows.outcomes),
      ]);
    },

    async getDeliverySettings(projectId) {
      const row = await db.get<{
        project_id: string;
        retry_delays_ms: string | null;
        egress_allow: string | null;
        updated_at_ms: number;
      }>('SELECT * FROM delivery_settings WHERE project_id = ?', [projectId]);
      if (!row) return null;
      return {
        projectId: row.project_id as ProjectId,
        retryDelaysMs: row.retry_delays_ms === null ? null : (JSON.parse(row.retry_delays_ms) as number[]),
        egressAllow: row.egress_allow === null ? null : (JSON.parse(row.egress_allow) as string[]),
        updatedAtMs: Number(row.updated_at_ms),
      };
    },
    async putDeliverySettings(s) {
      await db.run(
        'INSERT INTO delivery_settings (project_id, retry_delays_ms, egress_allow, updated_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (project_id) DO UPDATE SET retry_delays_ms = excluded.retry_delays_ms, egress_allow = excluded.egress_allow, updated_at_ms = excluded.updated_at_ms',
        [
          s.projectId,
          s.retryDelaysMs === null ? null : JSON.stringify(s.retryDelaysMs),
          s.egressAllow === null ? null : JSON.stringify(s.egressAllow),
          s.updatedAtMs,
        ],
      );
    },
  };
}

interface EventTypeRow {
  project_id: string;
  name: string;
  description: string;
  example: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

const toEventType = (r: EventTypeRow): EventTypeRecord => ({
  projectId: r.project_id as ProjectId,
  name: r.name,
  description: r.description,
  example: r.example === null ? null : (JSON.parse(r.example) as unknown),
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});
