import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProjectId, SourceId } from '../../src/domain/ids.ts';
import { createSqlStore } from '../../src/store/sql/sql-store.ts';
import { BACKSTOP_AUTOCHECKPOINT_FRAMES } from '../../src/store/sqlite/checkpointer.ts';
import { SqliteDb } from '../../src/store/sqlite/sqlite-db.ts';
import { sqliteDialect } from '../../src/store/sqlite/sqlite-dialect.ts';
import type { Store } from '../../src/store/store.ts';
import { seedProject, seedSource, testInboundEvent } from '../helpers/stores.ts';

const PAGE = 8192;
/** Events of ~7 KiB: about one 8 KiB page (one WAL frame) each. */
const BODY = 'y'.repeat(7000);
const EVENTS = 4000;

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

describe('SQLite checkpointer thread', () => {
  let dir: string;
  let file: string;
  let db: SqliteDb;
  let store: Store;
  let projectId: ProjectId;
  let sourceId: SourceId;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hy-ckpt-'));
    file = path.join(dir, 'hookyard.db');
    db = new SqliteDb(file, {
      writerThread: true,
      checkpointerSettings: { activeIntervalMs: 2, restartFrames: 256 },
    });
    store = createSqlStore(db, sqliteDialect);
    await store.migrate();
    projectId = await seedProject(store);
    sourceId = await seedSource(store, projectId);
    await db.checkpointerReady();
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies the WAL into the database and restarts it while the writer thread commits', async () => {
    // ~4,000 frames (~32 MB), fewer than the writers' own autocheckpoint waits for: without the
    // checkpointer no checkpoint would run at all, the database file would stay small and the
    // WAL would hold all of it.
    assert.ok(EVENTS < BACKSTOP_AUTOCHECKPOINT_FRAMES);
    let maxWal = 0;
    const wal = `${file}-wal`;
    for (let i = 0; i < EVENTS / 20; i++) {
      await store.insertInboundEvents(
        Array.from({ length: 20 }, (_, j) =>
          testInboundEvent(projectId, sourceId, `c${i}-${j}`, {
            body: Buffer.from(JSON.stringify({ i, j, BODY })),
          }),
        ),
      );
      maxWal = Math.max(maxWal, sizeOf(wal));
    }
    const written = EVENTS * PAGE;
    // The file never shrinks, so its size is the longest the WAL got: restarted well before it
    // held everything written (the margin allows a checkpointer slowed by a busy machine).
    assert.ok(maxWal < written / 2, `WAL reached ${maxWal} bytes of ${written} written`);
    // The frames reach the database file (polling: the last pass may still be running).
    const deadline = Date.now() + 5000;
    while (sizeOf(file) < written * 0.8 && Date.now() < deadline) await sleep(20);
    assert.ok(sizeOf(file) >= written * 0.8, `database file ${sizeOf(file)} bytes, ${written} written`);
    const counted = await db.get<{ n: number }>('SELECT count(*) AS n FROM inbound_events');
    assert.equal(counted?.n, EVENTS);
  });

  it('keeps every committed row across a close and a reopen', async () => {
    const more = Array.from({ length: 50 }, (_, j) => testInboundEvent(projectId, sourceId, `r-${j}`));
    await store.insertInboundEvents(more);
    await store.close();
    // close() stops the checkpointer and the writer thread; a fresh handle sees everything.
    db = new SqliteDb(file, { writerThread: true });
    store = createSqlStore(db, sqliteDialect);
    const counted = await db.get<{ n: number }>('SELECT count(*) AS n FROM inbound_events');
    assert.equal(counted?.n, EVENTS + 50);
    const check = await db.get<{ integrity_check: string }>('PRAGMA integrity_check');
    assert.equal(check?.integrity_check, 'ok');
  });
});
