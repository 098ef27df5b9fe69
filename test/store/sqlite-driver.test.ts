import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SQLITE_DRIVER } from '../../src/store/sqlite/driver.ts';

const root = path.resolve(import.meta.dirname, '../..');

describe('SQLite driver', () => {
  it('loads the better-sqlite3 build this Node.js can run', () => {
    const major = Number(process.versions.node.split('.')[0]);
    assert.equal(SQLITE_DRIVER, major >= 24 ? 'better-sqlite3-napi' : 'better-sqlite3');
  });

  it('survives garbage collection of statements and iterators (Node.js 24 aborted on 12.x)', () => {
    // In a child process with gc() exposed: an abort there is an exit code here, not a dead runner.
    const script = `
      const { default: Database } = await import('./src/store/sqlite/driver.ts');
      const db = new Database(':memory:');
      db.exec('CREATE TABLE t (x INTEGER)');
      const insert = db.prepare('INSERT INTO t VALUES (?)');
      for (let i = 0; i < 100; i++) insert.run(i);
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 500; i++) {
          db.prepare('SELECT x FROM t WHERE x = ?').get(i % 100);
          for (const row of db.prepare('SELECT x FROM t').iterate()) if (row.x > 2) break;
          db.pragma('cache_size');
        }
        globalThis.gc();
      }
      db.close();
      globalThis.gc();
      console.log('survived');`;
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(r.status, 0, `exit ${r.status ?? r.signal}: ${r.stderr.slice(0, 800)}`);
    assert.match(r.stdout, /survived/);
  });
});
