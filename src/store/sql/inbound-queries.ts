import type { EventId, ProjectId, SourceId, TenantId } from '../../domain/ids.ts';
import {
  type InboundEventRecord,
  type InboundEventStatus,
  type InboundEventSummary,
  type InboundStore,
  type NewInboundEvent,
  type PendingInboundEvent,
  PG_EVENT_STATEMENT_ROWS,
  type RoutingJobStatus,
  type SourceRecord,
  type TenantRecord,
} from '../inbound-store.ts';
import type { Page } from '../page.ts';
import { insertInboundEventRowsSync } from '../sqlite/sqlite-inbound-statements.ts';
import type { Db } from './db.ts';
import { EVENT_COLUMNS, JSON_UNCHECKED, toInboundEventRow } from './inbound-event-rows.ts';
import type { SqlExecutor, SqlValue } from './sql-executor.ts';

interface SourceRow {
  id: string;
  project_id: string;
  name: string;
  provider: string | null;
  settings: string;
  secrets_sealed: string | null;
  public_key: string | null;
  handshake_state_sealed: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

interface EventRow {
  id: string;
  project_id: string;
  source_id: string;
  dedupe_key: string;
  provider_event_id: string | null;
  event_type: string | null;
  method: string;
  url: string;
  headers?: string;
  body?: Buffer;
  body_bytes?: number;
  json_valid: number | null;
  /** The body, in the event log's summaries, of an event whose JSON is unchecked (JSON_UNCHECKED). */
  unchecked_body?: Buffer | null;
  verification: string;
  credential_id: string | null;
  routing_key: string | null;
  tenant_id: string | null;
  status: string;
  process_status: string;
  process_attempts: number;
  process_error?: string | null;
  received_at_ms: number;
}

interface TenantRow {
  id: string;
  project_id: string;
  source_id: string;
  provider_account_id: string;
  user_id: string | null;
  created_at_ms: number;
}

const toSource = (r: SourceRow): SourceRecord => ({
  id: r.id as SourceId,
  projectId: r.project_id as ProjectId,
  name: r.name,
  provider: r.provider,
  settings: JSON.parse(r.settings) as Record<string, unknown>,
  secretsSealed: r.secrets_sealed,
  publicKey: r.public_key,
  handshakeStateSealed: r.handshake_state_sealed,
  createdAtMs: Number(r.created_at_ms),
  updatedAtMs: Number(r.updated_at_ms),
});

/**
 * Whether the body parses as JSON: as stored, or (JSON_UNCHECKED) checked now by JSON.parse, as the
 * receiver would have. Reads are rare next to writes, and a check here costs the ingest path nothing.
 */
function jsonValidOf(r: EventRow): boolean | null {
  if (r.json_valid === null) return null;
  const stored = Number(r.json_valid);
  if (stored !== JSON_UNCHECKED) return stored === 1;
  const body = r.body ?? r.unchecked_body;
  return body ? parsesAsJson(body) : false;
}

/** A routing job's summary: no JSON mark, so its query reads no body (PendingInboundEvent). */
function toPending(r: EventRow): PendingInboundEvent {
  const { jsonValid: _mark, ...pending } = toSummary(r);
  return pending;
}

function toSummary(r: EventRow): InboundEventSummary {
  return {
    id: r.id as EventId,
    projectId: r.project_id as ProjectId,
    sourceId: r.source_id as SourceId,
    dedupeKey: r.dedupe_key,
    providerEventId: r.provider_event_id,
    eventType: r.event_type,
    method: r.method,
    url: r.url,
    bodyBytes: Number(r.body_bytes ?? r.body?.length ?? 0),
    jsonValid: jsonValidOf(r),
    verification: JSON.parse(r.verification) as { ok: boolean; detail: string },
    credentialId: r.credential_id,
    routingKey: r.routing_key,
    tenantId: r.tenant_id,
    status: r.status as InboundEventStatus,
    processStatus: r.process_status as RoutingJobStatus,
    processAttempts: Number(r.process_attempts),
    processError: r.process_error ?? null,
    receivedAtMs: Number(r.received_at_ms),
  };
}

function toEvent(r: EventRow): InboundEventRecord {
  const { bodyBytes: _bytes, ...summary } = toSummary(r);
  return {
    ...summary,
    headers: JSON.parse(r.headers ?? '{}') as Record<string, string | string[]>,
    body: Buffer.from(r.body ?? Buffer.alloc(0)),
  };
}

const toTenant = (r: TenantRow): TenantRecord => ({
  id: r.id as TenantId,
  projectId: r.project_id as ProjectId,
  sourceId: r.source_id as SourceId,
  providerAccountId: r.provider_account_id,
  userId: r.user_id,
  createdAtMs: Number(r.created_at_ms),
});

const SUMMARY_COLUMNS =
  'id, project_id, source_id, dedupe_key, provider_event_id, event_type, method, url, json_valid, verification, credential_id, routing_key, tenant_id, status, process_status, process_attempts, process_error, received_at_ms';
/** The event log's columns: a summary's, and the body of an event whose JSON mark is unchecked. */
const LISTED_COLUMNS = `${SUMMARY_COLUMNS}, CASE WHEN json_valid = ${JSON_UNCHECKED} THEN body END AS unchecked_body`;

/** A row of the VALUES list PostgreSQL's insert selects from: typed where a column is not text. */
const PG_ROW_MARKS = `(${Array.from({ length: 19 }, (_, i) => (i === 9 ? '?::bytea' : i === 10 ? '?::smallint' : i >= 17 ? '?::bigint' : '?')).join(', ')})`;
const PG_SELECTED = EVENT_COLUMNS.split(', ')
  .map((c) =>
    c === 'process_status'
      ? "CASE WHEN v.process_status = 'pending' OR EXISTS (SELECT 1 FROM endpoints e WHERE e.project_id = v.project_id AND e.enabled = 1) THEN 'pending' ELSE 'done' END"
      : `v.${c}`,
  )
  .join(', ');

// PostgreSQL: a multi-row INSERT of at most this many rows (a round trip per row would dominate),
// so the statements, one text per row count, stay few enough to prepare (postgres-db.ts).
const PG_STATEMENT_ROWS = PG_EVENT_STATEMENT_ROWS;

function parsesAsJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/**
 * The bodies that can move to SQLite's writer thread instead of being copied there: a body the HTTP
 * parser gave in one piece owns its whole ArrayBuffer (Node copies each body chunk into one of its
 * own), and the caller said it reads none of them again (`bodiesMayMove`). A body that shares its
 * memory (a slice of a pooled buffer, or of a larger one) is copied as before. Copying a 1 KiB body
 * was about half the cost of cloning an event row.
 */
function movableBodies(events: readonly NewInboundEvent[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const seen = new Set<ArrayBufferLike>();
  for (const { body } of events) {
    const memory = body.buffer;
    if (
      memory instanceof ArrayBuffer &&
      body.byteOffset === 0 &&
      body.byteLength === memory.byteLength &&
      body.byteLength > 0 &&
      !seen.has(memory)
    ) {
      seen.add(memory);
      out.push(memory);
    }
  }
  return out;
}

function toInsertResults(
  events: readonly NewInboundEvent[],
  stored: ReadonlyArray<string | null>,
): Array<{ id: EventId; duplicate: boolean }> {
  return events.map((e, i) => {
    const existing = stored[i];
    return existing == null ? { id: e.id, duplicate: false } : { id: existing as EventId, duplicate: true };
  });
}

/**
 * The multi-row INSERT of `rows` events, one text per row count (prepared after a few runs). It
 * selects from the rows' VALUES so each row's process status can look at its project's endpoints
 * (`WHERE true` keeps ON CONFLICT from reading as a join's ON).
 */
const pgInsertText = Array.from(
  { length: PG_STATEMENT_ROWS + 1 },
  (_, rows) =>
    `INSERT INTO inbound_events (${EVENT_COLUMNS}) SELECT ${PG_SELECTED} FROM (VALUES ${Array.from({ length: rows }, () => PG_ROW_MARKS).join(', ')}) AS v (${EVENT_COLUMNS}) WHERE true ON CONFLICT (source_id, dedupe_key) DO NOTHING RETURNING id`,
);

/**
 * PostgreSQL: the batch as multi-row INSERTs of at most PG_STATEMENT_ROWS rows. A batch that fits
 * one statement runs it on its own, committed by itself (a statement is atomic): BEGIN and COMMIT
 * were two more round trips a batch, about as much CPU on each side as the insert of 8 rows. A
 * larger batch runs its statements in one transaction, so it still commits (and waits for the
 * WAL flush) once.
 */
function insertEventsPg(db: Db, events: readonly NewInboundEvent[]) {
  if (events.length <= PG_STATEMENT_ROWS) return insertManyPg(db, events);
  return db.transaction((tx) => insertManyPg(tx, events));
}

/**
 * Multi-row INSERTs; rows one did not insert are duplicates (of stored events, or of an earlier
 * row of the same batch), whose stored ids are then read in one query per statement.
 */
async function insertManyPg(tx: SqlExecutor, events: readonly NewInboundEvent[]) {
  const out: Array<{ id: EventId; duplicate: boolean }> = [];
  for (let i = 0; i < events.length; i += PG_STATEMENT_ROWS) {
    const chunk = events.slice(i, i + PG_STATEMENT_ROWS);
    const inserted = await tx.all<{ id: string }>(
      pgInsertText[chunk.length] as string,
      chunk.flatMap((e) => toInboundEventRow(e)),
    );
    const fresh = new Set(inserted.map((r) => r.id));
    const missing = chunk.filter((e) => !fresh.has(e.id));
    const existing = new Map<string, string>();
    if (missing.length > 0) {
      const rows = await tx.all<{ id: string; source_id: string; dedupe_key: string }>(
        `SELECT id, source_id, dedupe_key FROM inbound_events WHERE (source_id, dedupe_key) IN (${missing.map(() => '(?, ?)').join(', ')})`,
        missing.flatMap((e) => [e.sourceId, e.dedupeKey]),
      );
      for (const r of rows) existing.set(`${r.source_id}\u0000${r.dedupe_key}`, r.id);
    }
    for (const e of chunk) {
      if (fresh.has(e.id)) out.push({ id: e.id, duplicate: false });
      else
        out.push({
          id: (existing.get(`${e.sourceId}\u0000${e.dedupeKey}`) ?? e.id) as EventId,
          duplicate: true,
        });
    }
  }
  return out;
}

function pageOf<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
}

export function createInboundQueries(db: Db): InboundStore {
  const sourceParams = (s: SourceRecord): SqlValue[] => [
    s.name,
    s.provider,
    JSON.stringify(s.settings),
    s.secretsSealed,
    s.publicKey,
    s.handshakeStateSealed,
    s.updatedAtMs,
  ];
  return {
    async insertSource(s) {
      await db.run(
        'INSERT INTO sources (name, provider, settings, secrets_sealed, public_key, handshake_state_sealed, updated_at_ms, id, project_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [...sourceParams(s), s.id, s.projectId, s.createdAtMs],
      );
    },
    async getSource(projectId, id) {
      const row = await db.get<SourceRow>('SELECT * FROM sources WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ]);
      return row ? toSource(row) : null;
    },
    async getSourceForIngest(id) {
      const row = await db.get<SourceRow>('SELECT * FROM sources WHERE id = ?', [id]);
      return row ? toSource(row) : null;
    },
    async listSources(projectId, { limit, after }) {
      const rows = await db.all<SourceRow>(
        'SELECT * FROM sources WHERE project_id = ? AND id > ? ORDER BY id LIMIT ?',
        [projectId, after ?? '', limit + 1],
      );
      const page = pageOf(rows, limit);
      return { items: page.items.map(toSource), nextCursor: page.nextCursor };
    },
    async updateSource(s) {
      const { changes } = await db.run(
        'UPDATE sources SET name = ?, provider = ?, settings = ?, secrets_sealed = ?, public_key = ?, handshake_state_sealed = ?, updated_at_ms = ? WHERE id = ? AND project_id = ?',
        [...sourceParams(s), s.id, s.projectId],
      );
      return changes > 0;
    },
    async deleteSource(projectId, id) {
      const { changes } = await db.run('DELETE FROM sources WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ]);
      return changes > 0;
    },

    async insertInboundEvents(events, options) {
      if (events.length === 0) return [];
      const rows = db.dialect === 'sqlite' ? events.map(toInboundEventRow) : null;
      if (rows && db.offload) {
        const transfer = options?.bodiesMayMove ? movableBodies(events) : [];
        return toInsertResults(events, await db.offload('insertInboundEvents', rows, transfer));
      }
      if (rows && db.transactionSync) {
        return toInsertResults(
          events,
          await db.transactionSync((tx) => insertInboundEventRowsSync(tx, rows)),
        );
      }
      return insertEventsPg(db, events);
    },
    async getInboundEvent(projectId, id) {
      const row = await db.get<EventRow>('SELECT * FROM inbound_events WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ]);
      return row ? toEvent(row) : null;
    },
    async listInboundEvents(projectId, f, { limit, after }) {
      const where: string[] = ['project_id = ?'];
      const params: SqlValue[] = [projectId];
      if (after) {
        where.push('id < ?');
        params.push(after);
      }
      if (f.sourceId) {
        where.push('source_id = ?');
        params.push(f.sourceId);
      }
      if (f.status) {
        where.push('status = ?');
        params.push(f.status);
      }
      if (f.processStatus) {
        where.push('process_status = ?');
        params.push(f.processStatus);
      }
      if (f.tenantId) {
        where.push('tenant_id = ?');
        params.push(f.tenantId);
      }
      if (f.providerEventId) {
        where.push('provider_event_id = ?');
        params.push(f.providerEventId);
      }
      if (f.receivedFromMs !== undefined) {
        where.push('received_at_ms >= ?');
        params.push(f.receivedFromMs);
      }
      if (f.receivedToMs !== undefined) {
        where.push('received_at_ms < ?');
        params.push(f.receivedToMs);
      }
      params.push(limit + 1);
      const rows = await db.all<EventRow>(
        `SELECT ${LISTED_COLUMNS}, length(body) AS body_bytes FROM inbound_events WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
        params,
      );
      const page = pageOf(rows, limit);
      return { items: page.items.map(toSummary), nextCursor: page.nextCursor };
    },
    async claimPendingInboundEvents(limit, nowMs, leaseMs) {
      // SQLite: a pass that finds nothing due takes no write lock. The writer thread holds that
      // lock through each ingest commit's fsync, and a claim waiting for it would stall the event
      // loop once per router pass (a read in WAL mode never waits).
      if (db.dialect === 'sqlite') {
        const due = await db.get<{ one: number }>(
          "SELECT 1 AS one FROM inbound_events WHERE process_status = 'pending' AND process_after_ms <= ? LIMIT 1",
          [nowMs],
        );
        if (due === undefined) return [];
      }
      // SQLite has one writer, so the subquery's rows cannot be claimed by anyone else before the
      // UPDATE; PostgreSQL locks them (SKIP LOCKED) so concurrent routers take different ones.
      const due =
        db.dialect === 'sqlite'
          ? "SELECT project_id, id FROM inbound_events WHERE process_status = 'pending' AND process_after_ms <= ? ORDER BY process_after_ms LIMIT ?"
          : "SELECT project_id, id FROM inbound_events WHERE process_status = 'pending' AND process_after_ms <= ? ORDER BY process_after_ms LIMIT ? FOR UPDATE SKIP LOCKED";
      const rows = await db.transaction((tx) =>
        tx.all<EventRow>(
          `UPDATE inbound_events SET process_after_ms = ?, process_attempts = process_attempts + 1 WHERE (project_id, id) IN (${due}) RETURNING ${SUMMARY_COLUMNS}, length(body) AS body_bytes`,
          [nowMs + leaseMs, nowMs, limit],
        ),
      );
      return rows.map(toPending).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async failInboundEvents(failures) {
      if (failures.length === 0) return;
      await db.transaction(async (tx) => {
        for (const f of failures) {
          if (f.retryAtMs === null) {
            await tx.run(
              "UPDATE inbound_events SET process_status = 'failed', process_error = ? WHERE project_id = ? AND id = ? AND process_status = 'pending'",
              [f.error, f.projectId, f.id],
            );
          } else {
            await tx.run(
              "UPDATE inbound_events SET process_after_ms = ?, process_error = ? WHERE project_id = ? AND id = ? AND process_status = 'pending'",
              [f.retryAtMs, f.error, f.projectId, f.id],
            );
          }
        }
      });
    },
    async requeueFailedInboundEvent(projectId, id, nowMs) {
      const { changes } = await db.run(
        "UPDATE inbound_events SET process_status = 'pending', process_after_ms = ?, process_attempts = 0 WHERE project_id = ? AND id = ? AND process_status = 'failed'",
        [nowMs, projectId, id],
      );
      return changes > 0;
    },
    async completeInboundEvents(outcomes) {
      if (outcomes.length === 0) return;
      // Most of a batch shares one outcome (routed, no tenant) and one project: one UPDATE per
      // distinct (project, outcome), each a range of the (project_id, id) key.
      const groups = new Map<
        string,
        { projectId: string; status: string; tenantId: string | null; ids: string[] }
      >();
      for (const o of outcomes) {
        const key = `${o.projectId}\u0000${o.status}\u0000${o.tenantId ?? ''}`;
        let g = groups.get(key);
        if (!g) {
          g = { projectId: o.projectId, status: o.status, tenantId: o.tenantId, ids: [] };
          groups.set(key, g);
        }
        g.ids.push(o.id);
      }
      await db.transaction(async (tx) => {
        for (const g of groups.values()) {
          for (let i = 0; i < g.ids.length; i += 500) {
            const chunk = g.ids.slice(i, i + 500);
            await tx.run(
              `UPDATE inbound_events SET process_status = 'done', status = ?, tenant_id = ?, process_error = NULL WHERE project_id = ? AND id IN (${chunk.map(() => '?').join(', ')})`,
              [g.status, g.tenantId, g.projectId, ...chunk],
            );
          }
        }
      });
    },

    async upsertTenant(t) {
      const { changes } = await db.run(
        'INSERT INTO tenants (id, project_id, source_id, provider_account_id, user_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source_id, provider_account_id) DO NOTHING',
        [t.id, t.projectId, t.sourceId, t.providerAccountId, t.userId, t.createdAtMs],
      );
      const row = await db.get<TenantRow>(
        'SELECT * FROM tenants WHERE source_id = ? AND provider_account_id = ?',
        [t.sourceId, t.providerAccountId],
      );
      if (!row) throw new Error('tenant vanished after upsert');
      return { tenant: toTenant(row), created: changes > 0 };
    },
    async findTenant(sourceId, providerAccountId) {
      const row = await db.get<TenantRow>(
        'SELECT * FROM tenants WHERE source_id = ? AND provider_account_id = ?',
        [sourceId, providerAccountId],
      );
      return row ? toTenant(row) : null;
    },
    async listTenants(projectId, sourceId) {
      const rows = sourceId
        ? await db.all<TenantRow>(
            'SELECT * FROM tenants WHERE project_id = ? AND source_id = ? ORDER BY id',
            [projectId, sourceId],
          )
        : await db.all<TenantRow>('SELECT * FROM tenants WHERE project_id = ? ORDER BY id', [projectId]);
      return rows.map(toTenant);
    },
    async deleteTenant(projectId, id) {
      const { changes } = await db.run('DELETE FROM tenants WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ]);
      return changes > 0;
    },
    async requeueUnrouted(sourceId, routingKey, nowMs) {
      const { changes } = await db.run(
        "UPDATE inbound_events SET process_status = 'pending', process_after_ms = ?, process_attempts = 0 WHERE source_id = ? AND routing_key = ? AND status = 'unrouted'",
        [nowMs, sourceId, routingKey],
      );
      return changes;
    },
  };
}
