import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');

describe('SQLite driver', () => {
  it('survives garbage collection of statements and iterators (Node.js 24 aborted on 12.x)', () => {
    // In a child process, so an abort there is an exit code here, not a dead test runner. The
    // statements are dropped between event-loop turns with garbage piling up beside them, as in a
    // server: V8 collects them in its own tasks, outside any script (an explicit gc() call from
    // a script did not reproduce the abort).
    const script = `
      const { default: Database } = await import('./src/store/sqlite/driver.ts');
      const db = new Database(':memory:');
      db.exec('CREATE TABLE t (x INTEGER)');
      const insert = db.prepare('INSERT INTO t VALUES (?)');
      for (let i = 0; i < 100; i++) insert.run(i);
      const until = Date.now() + 1500;
      await new Promise((resolve) => {
        const turn = () => {
          for (let i = 0; i < 500; i++) {
            db.prepare('SELECT x FROM t WHERE x = ?').get(i % 100);
            for (const row of db.prepare('SELECT x FROM t').iterate()) if (row.x > 2) break;
            db.pragma('cache_size');
          }
          const garbage = [];
          for (let i = 0; i < 10000; i++) garbage.push({ i, s: 'x'.repeat(20) });
          if (Date.now() < until) setImmediate(turn);
          else resolve();
        };
        turn();
      });
      db.close();
      console.log('survived');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `exit ${r.status ?? r.signal}: ${r.stderr.slice(0, 800)}`);
    assert.match(r.stdout, /survived/);
  });
});
