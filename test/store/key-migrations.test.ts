import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type DeliveryId, type EventId, newId, type ProjectId, type SourceId } from '../../src/domain/ids.ts';
import type { AttemptRecord, ClaimedDelivery } from '../../src/store/delivery-store.ts';
import type { NewInboundEvent } from '../../src/store/inbound-store.ts';
import { PostgresDb } from '../../src/store/postgres/postgres-db.ts';
import { postgresDialect } from '../../src/store/postgres/postgres-dialect.ts';
import type { Db } from '../../src/store/sql/db.ts';
import { EVENT_COLUMNS, toInboundEventRow } from '../../src/store/sql/inbound-event-rows.ts';
import { migrate, readMigrations } from '../../src/store/sql/migrator.ts';
import { createSqlStore } from '../../src/store/sql/sql-store.ts';
import { SqliteDb } from '../../src/store/sqlite/sqlite-db.ts';
import { sqliteDialect } from '../../src/store/sqlite/sqlite-dialect.ts';
import type { Store } from '../../src/store/store.ts';
import {
  createTestDatabase,
  STORE_KINDS,
  type StoreKind,
  seedProject,
  seedSource,
  testAttempt,
  testInboundEvent,
  testMessage,
} from '../helpers/stores.ts';

function event(projectId: ProjectId, sourceId: SourceId, key: string): NewInboundEvent {
  // Pending (a routing job), with a body already checked.
  return testInboundEvent(projectId, sourceId, key, { jsonValid: true, decided: null });
}

/**
 * Writes events as the schema before migration 007 (SQLite) / 008 (PostgreSQL) held them: the
 * store's own row with the body's hash in body_sha256 after the body, a column its insert no
 * longer writes.
 */
async function insertAsBeforeHashDrop(db: Db, events: readonly NewInboundEvent[]): Promise<void> {
  const columns = EVENT_COLUMNS.replace('body,', 'body, body_sha256,');
  for (const e of events) {
    const row = toInboundEventRow(e);
    row.splice(row.indexOf(e.body) + 1, 0, createHash('sha256').update(e.body).digest('hex'));
    await db.run(`INSERT INTO inbound_events (${columns}) VALUES (${row.map(() => '?').join(', ')})`, row);
  }
}

/** A new event with the first one's key is a duplicate of it; one with a new key is inserted. */
async function assertDedupeHolds(
  store: Store,
  projectId: ProjectId,
  sourceId: SourceId,
  stored: NewInboundEvent,
): Promise<void> {
  const again = await store.insertInboundEvents([
    event(projectId, sourceId, stored.providerEventId as string),
    event(projectId, sourceId, 'c'),
  ]);
  assert.deepEqual(
    again.map((r) => r.duplicate),
    [true, false],
  );
  assert.equal(again[0]?.id, stored.id);
}

/**
 * A store of `kind` whose schema stops just before the migration named `name`, so rows can be
 * written the old way and then migrated. `finish` applies the rest.
 */
async function openBefore(
  kind: StoreKind,
  name: string,
): Promise<{
  db: Db;
  store: Store;
  finish: () => Promise<number[]>;
  version: number;
  close: () => Promise<void>;
}> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hy-keymig-'));
  const pgDb = kind === 'postgres' ? await createTestDatabase() : null;
  const db: Db = pgDb ? new PostgresDb(pgDb.url, { poolSize: 2 }) : new SqliteDb(path.join(dir, 'h.db'));
  const store = createSqlStore(db, pgDb ? postgresDialect : sqliteDialect);
  const target = readMigrations(db.dialect).find((m) => m.name === name);
  assert.ok(target, `migration ${name} exists for ${kind}`);
  await migrate(db, { upTo: target.version - 1 });
  return {
    db,
    store,
    version: target.version,
    finish: () => migrate(db),
    async close() {
      await store.close();
      await pgDb?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An endpoint row in the columns endpoints had before they could belong to a user. */
async function insertEndpointBeforeUsers(db: Db, projectId: string, id: string): Promise<void> {
  await db.run(
    "INSERT INTO endpoints (id, project_id, url, name, description, event_types, object_types, headers, rate_limit_per_second, max_concurrency, timeout_ms, signature_scheme, signature_header, secrets_sealed, enabled, health_state, consecutive_failures, first_failure_at_ms, failed_since_success, last_success_at_ms, health_changed_at_ms, health_reason, health_version, created_at_ms, updated_at_ms) VALUES (?, ?, 'https://receiver.example/hooks', 'main', '', '[]', '[]', '{}', NULL, 4, 15000, 'standard-webhooks', NULL, 'sealed', 1, 'active', 0, NULL, 0, NULL, NULL, NULL, 0, 100, 100)",
    [id, projectId],
  );
}

async function columnsOf(db: Db, table: string): Promise<string[]> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', [table])
      : await db.all<{ name: string }>(
          'SELECT column_name AS name FROM information_schema.columns WHERE table_name = ?',
          [table],
        );
  return rows.map((r) => r.name);
}

async function indexesOf(db: Db, table: string): Promise<string[]> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.all<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
          [table],
        )
      : await db.all<{ name: string }>('SELECT indexname AS name FROM pg_indexes WHERE tablename = ?', [
          table,
        ]);
  return rows.map((r) => r.name);
}

for (const kind of STORE_KINDS) {
  describe(`inbound events keyed by (project_id, id): migration over existing rows (${kind})`, () => {
    it('keeps every event, its dedupe and its routing job, and drops the separate id key', async () => {
      const { db, store, finish, version, close } = await openBefore(kind, 'inbound_events_keyed_by_project');
      try {
        const projectId = await seedProject(store);
        const sourceId = await seedSource(store, projectId);
        const before = [event(projectId, sourceId, 'a'), event(projectId, sourceId, 'b')];
        await insertAsBeforeHashDrop(db, before);

        assert.deepEqual((await finish()).slice(0, 1), [version]);

        for (const e of before) {
          const stored = await store.getInboundEvent(projectId, e.id);
          assert.deepEqual(stored?.body, e.body);
          assert.equal(stored?.dedupeKey, e.dedupeKey);
        }
        const page = await store.listInboundEvents(projectId, {}, { limit: 10 });
        assert.deepEqual(page.items.map((e) => e.id).sort(), before.map((e) => e.id).sort());
        // The dedupe key survived the rebuild; a new key still inserts.
        await assertDedupeHolds(store, projectId, sourceId, before[0] as NewInboundEvent);
        // The routing jobs (pending rows) are still claimed and completed through the new key.
        const claimed = await store.claimPendingInboundEvents(10, 2000, 30_000);
        assert.equal(claimed.length, 3);
        await store.completeInboundEvents(
          claimed.map((e) => ({
            projectId: e.projectId,
            id: e.id as EventId,
            status: 'routed',
            tenantId: null,
          })),
        );
        assert.equal((await store.claimPendingInboundEvents(10, 100_000, 30_000)).length, 0);
        assert.equal((await store.getInboundEvent(projectId, claimed[0]?.id as EventId))?.status, 'routed');

        const indexes = await indexesOf(db, 'inbound_events');
        assert.ok(!indexes.includes('inbound_events_by_project'), `no separate project index: ${indexes}`);
        assert.equal(indexes.length, 4, `key, dedupe, pending and unrouted: ${indexes}`);
      } finally {
        await close();
      }
    });
  });
}

for (const kind of STORE_KINDS) {
  describe(`inbound events without a stored body hash: migration over existing rows (${kind})`, () => {
    it('keeps every event and its fields, and stores no hash after it', async () => {
      const { db, store, finish, version, close } = await openBefore(kind, 'inbound_body_hash_on_read');
      try {
        const projectId = await seedProject(store);
        const sourceId = await seedSource(store, projectId);
        const before = [event(projectId, sourceId, 'a'), event(projectId, sourceId, 'b')];
        await insertAsBeforeHashDrop(db, before);

        assert.deepEqual((await finish()).slice(0, 1), [version]);

        for (const e of before) {
          const stored = await store.getInboundEvent(projectId, e.id);
          assert.deepEqual(stored?.body, e.body);
          assert.equal(stored?.dedupeKey, e.dedupeKey);
          assert.equal(stored?.providerEventId, e.providerEventId);
          assert.deepEqual(stored?.headers, e.headers);
          assert.equal(stored?.jsonValid, true);
          assert.equal(stored?.processStatus, 'pending');
        }
        const columns = await columnsOf(db, 'inbound_events');
        assert.ok(columns.includes('dedupe_key'), `columns read: ${columns}`);
        assert.ok(!columns.includes('body_sha256'), `no body_sha256 column: ${columns}`);
        // The dedupe key still decides duplicates, and new events insert without the column.
        await assertDedupeHolds(store, projectId, sourceId, before[0] as NewInboundEvent);
      } finally {
        await close();
      }
    });
  });
}

function attempt(c: ClaimedDelivery, n: number, outcome: 'succeeded' | 'failed'): AttemptRecord {
  return testAttempt(c, {
    attemptNumber: n,
    startedAtMs: 2000 + n,
    outcome,
    statusCode: outcome === 'succeeded' ? 200 : 503,
    responseBody: outcome,
  });
}

for (const kind of STORE_KINDS) {
  describe(`attempts keyed by (delivery_id, attempt_number, id): migration over existing rows (${kind})`, () => {
    it('keeps every attempt in order, takes a repeated attempt number, and deletes with its endpoint', async () => {
      const { db, store, finish, version, close } = await openBefore(kind, 'attempts_keyed_by_delivery');
      try {
        const projectId = await seedProject(store);
        const endpointId = newId('endpoint');
        await insertEndpointBeforeUsers(db, projectId, endpointId);
        const published = testMessage(projectId, [endpointId], { body: '{}' });
        const messageId = published.message.id;
        // The rows as the store wrote them before the migration, in that schema's columns (the
        // store's code follows the newest schema): a delivery after one failed try, due at 6000.
        const m = published.message;
        await db.run(
          'INSERT INTO messages (id, project_id, event_type, object_type, credential_id, user_id, ordering_key, idempotency_key, body, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [m.id, projectId, m.eventType, null, null, null, null, null, m.body, m.createdAtMs],
        );
        const deliveryId = published.deliveries[0]?.id as DeliveryId;
        await db.run(
          "INSERT INTO deliveries (id, project_id, message_id, endpoint_id, ordering_key, status, attempt_count, schedule_position, next_attempt_at_ms, last_attempt_at_ms, last_status_code, last_failure_kind, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, NULL, 'pending', 1, 1, 6000, 2001, 503, 'http_status', ?, 5000)",
          [deliveryId, projectId, messageId, endpointId, m.createdAtMs],
        );
        const failedTry = testAttempt(
          { id: deliveryId, projectId, messageId, endpointId, attemptCount: 0 } as ClaimedDelivery,
          { attemptNumber: 1, startedAtMs: 2001, outcome: 'failed', statusCode: 503, responseBody: 'failed' },
        );
        await db.run(
          `INSERT INTO attempts (id, project_id, delivery_id, message_id, endpoint_id, attempt_number, started_at_ms, duration_ms, outcome, status_code, error_kind, error_message, response_headers, response_body, response_body_truncated, next_attempt_at_ms) VALUES (${Array(16).fill('?').join(', ')})`,
          [
            failedTry.id,
            projectId,
            deliveryId,
            messageId,
            endpointId,
            1,
            failedTry.startedAtMs,
            failedTry.durationMs,
            'failed',
            503,
            null,
            null,
            JSON.stringify(failedTry.responseHeaders),
            'failed',
            0,
            6000,
          ],
        );

        assert.ok((await finish()).includes(version));

        // After the migration: a second try, and the same number again (a worker whose lease ran
        // out mid-request records it too), all kept, in attempt order.
        const [again] = await store.claimDueDeliveries({ limit: 10, nowMs: 7000, leaseMs: 1000 });
        assert.ok(again);
        const second = attempt(again, 2, 'succeeded');
        const repeated = attempt(again, 2, 'succeeded');
        for (const a of [second, repeated]) {
          await store.completeDeliveries([
            {
              deliveryId: again.id,
              status: 'succeeded',
              nextAttemptAtMs: 7000,
              updatedAtMs: 7000,
              lastFailureKind: null,
              attempt: a,
            },
          ]);
        }
        const [delivery] = await store.listMessageDeliveries(projectId, messageId);
        assert.deepEqual(
          delivery?.attempts.map((a) => [a.attemptNumber, a.outcome]),
          [
            [1, 'failed'],
            [2, 'succeeded'],
            [2, 'succeeded'],
          ],
        );
        assert.equal(delivery?.attempts[0]?.id, failedTry.id);
        assert.deepEqual(
          new Set(delivery?.attempts.slice(1).map((a) => a.id)),
          new Set([second.id, repeated.id]),
        );

        assert.equal(await store.deleteEndpoint(projectId, endpointId), true);
        const left = await db.get<{ n: number }>('SELECT count(*) AS n FROM attempts WHERE endpoint_id = ?', [
          endpointId,
        ]);
        assert.equal(Number(left?.n), 0, 'the endpoint took its attempts with it');
        const indexes = await indexesOf(db, 'attempts');
        assert.ok(!indexes.includes('attempts_by_delivery'), `no separate delivery index: ${indexes}`);
        assert.equal(indexes.length, 1, `the key only: ${indexes}`);
      } finally {
        await close();
      }
    });
  });
}

for (const kind of STORE_KINDS) {
  describe(`messages naming their deliveries: migration over existing rows (${kind})`, () => {
    it("lists each stored message's deliveries in creation order, and drops deliveries_by_message", async () => {
      const { db, store, finish, version, close } = await openBefore(kind, 'message_delivery_ids');
      try {
        const projectId = await seedProject(store);
        const a = newId('endpoint');
        const b = newId('endpoint');
        for (const id of [a, b]) await insertEndpointBeforeUsers(db, projectId, id);
        // Rows as the store wrote them before the migration, in that schema's columns: a message
        // to two endpoints (b's delivery created first), and a message that matched none.
        const two = testMessage(projectId, [b, a]);
        const none = testMessage(projectId, []);
        for (const { message: m } of [two, none]) {
          await db.run(
            'INSERT INTO messages (id, project_id, event_type, object_type, credential_id, user_id, ordering_key, idempotency_key, body, created_at_ms) VALUES (?, ?, ?, NULL, NULL, NULL, NULL, NULL, ?, ?)',
            [m.id, projectId, m.eventType, m.body, m.createdAtMs],
          );
        }
        for (const d of two.deliveries) {
          await db.run(
            "INSERT INTO deliveries (id, project_id, message_id, endpoint_id, ordering_key, status, attempt_count, schedule_position, next_attempt_at_ms, last_attempt_at_ms, last_status_code, last_failure_kind, created_at_ms, updated_at_ms, leased_until_ms) VALUES (?, ?, ?, ?, NULL, 'succeeded', 1, 1, 1000, 1000, 200, NULL, 1000, 1000, NULL)",
            [d.id, projectId, two.message.id, d.endpointId],
          );
        }
        assert.ok((await indexesOf(db, 'deliveries')).includes('deliveries_by_message'));

        assert.ok((await finish()).includes(version));

        assert.deepEqual(
          (await store.listMessageDeliveries(projectId, two.message.id)).map((d) => [d.id, d.endpointId]),
          two.deliveries.map((d) => [d.id, d.endpointId]),
        );
        assert.deepEqual(await store.listMessageDeliveries(projectId, none.message.id), []);
        // Resend finds them through the list too: both, then a's alone.
        assert.deepEqual(
          (await store.resendMessage(projectId, two.message.id, 2000)).sort(),
          two.deliveries.map((d) => d.id).sort(),
        );
        assert.ok(!(await indexesOf(db, 'deliveries')).includes('deliveries_by_message'));
      } finally {
        await close();
      }
    });
  });
}
