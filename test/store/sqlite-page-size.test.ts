import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createSqlStore } from '../../src/store/sql/sql-store.ts';
import { NEW_DATABASE_PAGE_SIZE } from '../../src/store/sqlite/connection.ts';
import Database from '../../src/store/sqlite/driver.ts';
import { SqliteDb } from '../../src/store/sqlite/sqlite-db.ts';
import { sqliteDialect } from '../../src/store/sqlite/sqlite-dialect.ts';
import { seedProject } from '../helpers/stores.ts';

describe('SQLite page size', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hy-pages-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function pageSizeAfterMigrate(file: string): Promise<number> {
    const db = new SqliteDb(file, { writerThread: true });
    const store = createSqlStore(db, sqliteDialect);
    try {
      await store.migrate();
      // The database works at that page size: a write and a read back.
      const projectId = await seedProject(store);
      assert.ok(await store.getProject(projectId));
      const row = await db.get<{ page_size: number }>('PRAGMA page_size');
      return Number(row?.page_size);
    } finally {
      await store.close();
    }
  }

  it('creates a new database with 8 KiB pages', async () => {
    assert.equal(NEW_DATABASE_PAGE_SIZE, 8192);
    assert.equal(await pageSizeAfterMigrate(path.join(dir, 'new.db')), 8192);
  });

  it('opens a database made with 4 KiB pages as it is', async () => {
    const file = path.join(dir, 'old.db');
    const old = new Database(file);
    old.pragma('page_size = 4096');
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE made_before (x INTEGER)');
    old.close();
    assert.equal(await pageSizeAfterMigrate(file), 4096);
  });
});
