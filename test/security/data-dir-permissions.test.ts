import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { secureDataDir } from '../../src/security/data-dir.ts';
import { loadMasterKeys } from '../../src/security/secret-box.ts';
import { openStore } from '../../src/store/open-store.ts';

// The data directory holds the master key and, with SQLite, every secret sealed with it and every
// event body: only the user running Hookyard may read it, whatever the umask.

const modeOf = (file: string) => statSync(file).mode & 0o777;
const octal = (mode: number) => mode.toString(8).padStart(4, '0');

describe('data directory permissions', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'hookyard-perm-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates the directory 0700 and the master key and database files 0600', async () => {
    const previous = process.umask(0o022);
    try {
      const dataDir = path.join(root, 'fresh', 'data');
      loadMasterKeys('', dataDir);
      assert.equal(octal(modeOf(dataDir)), '0700');
      assert.equal(octal(modeOf(path.join(dataDir, 'master.key'))), '0600');

      const other = path.join(root, 'fresh-db', 'data');
      const store = openStore({ databaseUrl: '', dataDir: other });
      await store.migrate();
      assert.equal(octal(modeOf(other)), '0700');
      for (const name of ['hookyard.db', 'hookyard.db-wal', 'hookyard.db-shm']) {
        assert.equal(octal(modeOf(path.join(other, name))), '0600', name);
      }
      await store.close();
    } finally {
      process.umask(previous);
    }
  });

  it("tightens an existing data directory's loose modes and says what it changed", () => {
    const dataDir = path.join(root, 'loose');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    for (const name of ['hookyard.db', 'hookyard.db-wal', 'master.key', 'notes.txt']) {
      writeFileSync(path.join(dataDir, name), 'x', { mode: 0o644 });
      chmodSync(path.join(dataDir, name), 0o644);
    }
    writeFileSync(path.join(dataDir, 'hookyard.db-shm'), 'x', { mode: 0o600 });

    const changes = secureDataDir(dataDir);
    assert.deepEqual(changes.map((c) => [path.basename(c.path), octal(c.fromMode), octal(c.toMode)]).sort(), [
      ['hookyard.db', '0644', '0600'],
      ['hookyard.db-wal', '0644', '0600'],
      ['loose', '0755', '0700'],
      ['master.key', '0644', '0600'],
    ]);
    assert.equal(octal(modeOf(dataDir)), '0700');
    assert.equal(octal(modeOf(path.join(dataDir, 'master.key'))), '0600');
    assert.equal(
      octal(modeOf(path.join(dataDir, 'notes.txt'))),
      '0644',
      "files that are not Hookyard's stay",
    );
    assert.deepEqual(secureDataDir(dataDir), [], 'nothing left to change');
    assert.deepEqual(secureDataDir(path.join(root, 'missing')), [], 'a missing directory is not created');
  });
});
