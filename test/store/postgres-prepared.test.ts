import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newId } from '../../src/domain/ids.ts';
import { PG_EVENT_STATEMENT_ROWS } from '../../src/store/inbound-store.ts';
import { PostgresDb } from '../../src/store/postgres/postgres-db.ts';
import { createInboundQueries } from '../../src/store/sql/inbound-queries.ts';
import { openTestStore, type TestStore } from '../helpers/stores.ts';

// The PostgreSQL driver names a statement once its text has run a few times, so each connection
// parses and plans it once (postgres-db.ts). Checked in PostgreSQL's own view of the connection.
describe('PostgreSQL prepared statements', () => {
  let t: TestStore;
  let db: PostgresDb;
  before(async () => {
    t = await openTestStore('postgres');
    db = new PostgresDb(t.databaseUrl, { poolSize: 1 });
  });
  after(async () => {
    await db.close();
    await t.cleanup();
  });

  const preparedTexts = async (): Promise<string[]> =>
    (await db.all<{ statement: string }>('SELECT statement FROM pg_prepared_statements')).map(
      (r) => r.statement,
    );

  it('prepares a statement that keeps coming back, and binds new values to it each time', async () => {
    const sql = 'SELECT ? :: integer * 2 AS doubled, ? :: text AS label';
    const results: Array<{ doubled: number; label: string }> = [];
    for (let i = 1; i <= 6; i++) {
      const row = await db.get<{ doubled: number; label: string }>(sql, [i, `run ${i}`]);
      assert.ok(row);
      results.push(row);
    }
    assert.deepEqual(
      results.map((r) => [r.doubled, r.label]),
      [1, 2, 3, 4, 5, 6].map((i) => [i * 2, `run ${i}`]),
    );
    assert.ok(
      (await preparedTexts()).includes('SELECT $1 :: integer * 2 AS doubled, $2 :: text AS label'),
      'the repeated statement is prepared on the connection',
    );
  });

  it('leaves a statement that ran once, and one with many parameters, unprepared', async () => {
    await db.get('SELECT ? :: integer + 1 AS once', [1]);
    // Past the limit (16 inbound event rows of 19 values each, 304).
    const many = Array.from({ length: 400 }, (_, i) => i);
    const wide = `SELECT ${many.map(() => '? :: integer').join(' + ')} AS total`;
    for (let i = 0; i < 5; i++) assert.equal((await db.get<{ total: number }>(wide, many))?.total, 79800);
    const texts = await preparedTexts();
    assert.ok(!texts.some((s) => s.includes('AS once')), 'a one-off statement is not prepared');
    assert.ok(!texts.some((s) => s.includes('AS total')), 'a statement with 400 parameters is not prepared');
  });

  it('prepares the inbound event insert of a full statement of rows', async () => {
    const inbound = createInboundQueries(db);
    const sourceId = newId('source');
    const projectId = newId('project');
    for (let batch = 0; batch < 4; batch++) {
      const events = Array.from({ length: PG_EVENT_STATEMENT_ROWS }, (_, i) => ({
        id: newId('event'),
        projectId,
        sourceId,
        dedupeKey: `id:${batch}-${i}`,
        providerEventId: `${batch}-${i}`,
        eventType: null,
        method: 'POST',
        url: `/in/${sourceId}`,
        headers: { 'content-type': 'text/plain' },
        body: Buffer.from(`body ${batch}-${i}`),
        jsonValid: null,
        verification: { ok: true, detail: 'none' },
        credentialId: null,
        routingKey: null,
        receivedAtMs: 1000,
        decided: null,
      }));
      const results = await inbound.insertInboundEvents(events);
      assert.deepEqual(
        results,
        events.map((e) => ({ id: e.id, duplicate: false })),
      );
    }
    const inserts = (await preparedTexts()).filter((s) => s.startsWith('INSERT INTO inbound_events'));
    assert.equal(inserts.length, 1, 'one prepared text for the 16-row insert');
    assert.equal(inserts[0]?.match(/\$\d+/g)?.length, PG_EVENT_STATEMENT_ROWS * 19);
  });

  it('never prepares a statement that selects *, whose result an added column would change', async () => {
    await db.run('CREATE TABLE gadgets (id INTEGER PRIMARY KEY, label TEXT)');
    await db.run("INSERT INTO gadgets VALUES (1, 'one')");
    for (let i = 0; i < 5; i++) await db.get('SELECT * FROM gadgets WHERE id = ?', [1]);
    assert.ok(!(await preparedTexts()).some((s) => s.includes('FROM gadgets')));
    await db.run('ALTER TABLE gadgets ADD COLUMN colour TEXT');
    assert.deepEqual(await db.get('SELECT * FROM gadgets WHERE id = ?', [1]), {
      id: 1,
      label: 'one',
      colour: null,
    });
  });

  it('runs a prepared statement again unprepared when a migration changed its result under it', async () => {
    await db.run('CREATE TABLE widgets (id INTEGER PRIMARY KEY, label TEXT)');
    await db.run("INSERT INTO widgets VALUES (1, 'one')");
    const sql = 'SELECT id, label FROM widgets WHERE id = ?';
    for (let i = 0; i < 4; i++) assert.equal((await db.get<{ label: string }>(sql, [1]))?.label, 'one');
    assert.ok(
      (await preparedTexts()).some((s) => s.includes('FROM widgets')),
      'prepared before the change',
    );
    // What another process's migration could do: the prepared statement's result type changes.
    await db.run('ALTER TABLE widgets ALTER COLUMN id TYPE BIGINT');
    for (let i = 0; i < 3; i++) assert.deepEqual(await db.get(sql, [1]), { id: 1, label: 'one' });
  });
});
