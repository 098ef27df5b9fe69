import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresDb } from '../../src/store/postgres/postgres-db.ts';
import { createTestDatabase } from '../helpers/stores.ts';

// What each connection Hookyard opens asks of its backend (src/store/postgres/postgres-db.ts,
// CONNECT_SQL): pages written out to the kernel every 256 kB, unless the server's configuration
// already says otherwise.
describe('PostgreSQL connections', () => {
  let database: { url: string; drop: () => Promise<void> };
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.drop();
  });

  it('set backend_flush_after to 256kB on the pool and on the hot-path pools', async () => {
    const db = new PostgresDb(database.url, { poolSize: 2 });
    try {
      const plain = await db.get<{ backend_flush_after: string }>('SHOW backend_flush_after');
      assert.equal(plain?.backend_flush_after, '256kB');
      const hot = db.withSettings({ jit: 'off' });
      const row = await hot.get<{ backend_flush_after: string; jit: string }>(
        "SELECT current_setting('backend_flush_after') AS backend_flush_after, current_setting('jit') AS jit",
      );
      assert.deepEqual(row, { backend_flush_after: '256kB', jit: 'off' });
      // In a transaction too (a connection of its own from the same pool).
      const inTx = await db.transaction((tx) =>
        tx.get<{ backend_flush_after: string }>('SHOW backend_flush_after'),
      );
      assert.equal(inTx?.backend_flush_after, '256kB');
    } finally {
      await db.close();
    }
  });

  it("keep the server's own setting when it has one", async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    const name = (await admin.query('SELECT current_database() AS name')).rows[0].name as string;
    await admin.query(`ALTER DATABASE "${name}" SET backend_flush_after = '512kB'`);
    await admin.end();
    const db = new PostgresDb(database.url, { poolSize: 1 });
    try {
      const row = await db.get<{ backend_flush_after: string }>('SHOW backend_flush_after');
      assert.equal(row?.backend_flush_after, '512kB');
    } finally {
      await db.close();
    }
  });
});
