import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WalSync } from '../../src/store/sqlite/wal-sync.ts';

describe('WAL group fsync', () => {
  it('answers every caller with a flush that started after its call, sharing flushes', async () => {
    const log: string[] = [];
    const releases: Array<() => void> = [];
    let started = 0;
    const sync = new WalSync('/unused', () => {
      const n = ++started;
      log.push(`start ${n}`);
      return new Promise<void>((resolve) =>
        releases.push(() => {
          log.push(`end ${n}`);
          resolve();
        }),
      );
    });
    const a = sync.sync().then(() => log.push('a done'));
    // b and c call while flush 1 runs: flush 1 may predate their writes, so they wait for flush 2.
    const b = sync.sync().then(() => log.push('b done'));
    const c = sync.sync().then(() => log.push('c done'));
    assert.equal(started, 1);
    releases.shift()?.();
    await a;
    await new Promise((r) => setImmediate(r));
    assert.equal(started, 2, 'one more flush, shared by b and c');
    releases.shift()?.();
    await Promise.all([b, c]);
    assert.deepEqual(log, ['start 1', 'end 1', 'a done', 'start 2', 'end 2', 'b done', 'c done']);
    // Idle again: the next caller starts its own flush at once.
    const d = sync.sync();
    assert.equal(started, 3);
    releases.shift()?.();
    await d;
  });

  it('propagates a failed fsync to the callers it covers', async () => {
    const sync = new WalSync('/unused', () => Promise.reject(new Error('EIO')));
    await assert.rejects(sync.sync(), /EIO/);
  });

  it('fsyncs a real file and tolerates a missing WAL', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hy-wal-'));
    const wal = path.join(dir, 'db-wal');
    const sync = new WalSync(wal);
    await sync.sync(); // no file yet: nothing to do
    writeFileSync(wal, 'frames');
    await sync.sync();
    sync.close();
  });
});
