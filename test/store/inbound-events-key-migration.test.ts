import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type EventId, newId, type ProjectId, type SourceId } from '../../src/domain/ids.ts';
import type { NewInboundEvent } from '../../src/store/inbound-store.ts';
import { PostgresDb } from '../../src/store/postgres/postgres-db.ts';
import type { Db } from '../../src/store/sql/db.ts';
import { migrate, readMigrations } from '../../src/store/sql/migrator.ts';
import { createSqlStore } from '../../src/store/sql/sql-store.ts';
import { SqliteDb } from '../../src/store/sqlite/sqlite-db.ts';
import { createTestDatabase, STORE_KINDS, seedProject } from '../helpers/stores.ts';

function event(projectId: ProjectId, sourceId: SourceId, key: string): NewInboundEvent {
  const body = Buffer.from(JSON.stringify({ id: key }));
  return {
    id: newId('event'),
    projectId,
    sourceId,
    dedupeKey: `id:${key}`,
    providerEventId: key,
    eventType: 'push',
    method: 'POST',
    url: `/in/${sourceId}`,
    headers: { 'content-type': 'application/json' },
    body,
    bodySha256: createHash('sha256').update(body).digest('hex'),
    jsonValid: true,
    verification: { ok: true, detail: 'test' },
    credentialId: null,
    routingKey: null,
    receivedAtMs: 1000,
    decided: null,
  };
}

for (const kind of STORE_KINDS) {
  describe(`inbound events keyed by (project_id, id): migration over existing rows (${kind})`, () => {
    it('keeps every event, its dedupe and its routing job, and drops the separate id key', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'hy-keymig-'));
      const pgDb = kind === 'postgres' ? await createTestDatabase() : null;
      const db: Db = pgDb ? new PostgresDb(pgDb.url, { poolSize: 2 }) : new SqliteDb(path.join(dir, 'h.db'));
      const store = createSqlStore(db);
      try {
        const target = readMigrations(db.dialect).find((m) => m.name === 'inbound_events_keyed_by_project');
        assert.ok(target, 'the migration exists');
        await migrate(db, { upTo: target.version - 1 });
        const projectId = await seedProject(store);
        const sourceId = newId('source');
        await store.insertSource({
          id: sourceId,
          projectId,
          name: 's',
          provider: null,
          settings: {},
          secretsSealed: null,
          publicKey: null,
          handshakeStateSealed: null,
          createdAtMs: 1,
          updatedAtMs: 1,
        });
        const before = [event(projectId, sourceId, 'a'), event(projectId, sourceId, 'b')];
        await store.insertInboundEvents(before);

        assert.deepEqual(await migrate(db), [target.version]);

        for (const e of before) {
          const stored = await store.getInboundEvent(projectId, e.id);
          assert.deepEqual(stored?.body, e.body);
          assert.equal(stored?.dedupeKey, e.dedupeKey);
        }
        const page = await store.listInboundEvents(projectId, {}, { limit: 10 });
        assert.deepEqual(page.items.map((e) => e.id).sort(), before.map((e) => e.id).sort());
        // The dedupe key survived the rebuild; a new key still inserts.
        const again = await store.insertInboundEvents([
          event(projectId, sourceId, 'a'),
          event(projectId, sourceId, 'c'),
        ]);
        assert.deepEqual(
          again.map((r) => r.duplicate),
          [true, false],
        );
        assert.equal(again[0]?.id, before[0]?.id);
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

        const indexes =
          db.dialect === 'sqlite'
            ? (
                await db.all<{ name: string }>(
                  "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'inbound_events'",
                )
              ).map((r) => r.name)
            : (
                await db.all<{ name: string }>(
                  "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'inbound_events'",
                )
              ).map((r) => r.name);
        assert.ok(!indexes.includes('inbound_events_by_project'), `no separate project index: ${indexes}`);
        assert.equal(indexes.length, 4, `key, dedupe, pending and unrouted: ${indexes}`);
      } finally {
        await store.close();
        await pgDb?.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
