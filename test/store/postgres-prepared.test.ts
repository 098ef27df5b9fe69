import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresDb } from '../../src/store/postgres/postgres-db.ts';
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
    const many = Array.from({ length: 100 }, (_, i) => i);
    const wide = `SELECT ${many.map(() => '? :: integer').join(' + ')} AS total`;
    for (let i = 0; i < 5; i++) assert.equal((await db.get<{ total: number }>(wide, many))?.total, 4950);
    const texts = await preparedTexts();
    assert.ok(!texts.some((s) => s.includes('AS once')), 'a one-off statement is not prepared');
    assert.ok(!texts.some((s) => s.includes('AS total')), 'a statement with 100 parameters is not prepared');
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
