import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runHookyard, spawnHookyard } from '../helpers/process.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'hy-cli-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function post(url: string, key: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('hookyard command line', () => {
  it('starts on SQLite, prints the admin key once, serves the API and stops cleanly on SIGTERM', async () => {
    const dataDir = tempDir();
    const p = spawnHookyard(['start', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    // Not a terminal: the log, announcements included, is JSON lines.
    const [, adminKey] = await p.waitFor(/"adminKey":"(hya_[^"]+)"/);
    const [, url] = await p.waitFor(/listening on (http:\/\/\S+)/);
    assert.ok(adminKey && url);
    assert.ok(existsSync(path.join(dataDir, 'hookyard.db')), 'the SQLite file exists');
    assert.ok(existsSync(path.join(dataDir, 'master.key')), 'the master key file exists');
    assert.equal((await fetch(`${url}/healthz`)).status, 200);

    const project = await post(`${url}/api/v1/projects`, adminKey, { name: 'cli' });
    assert.equal(project.status, 201);
    const key = await post(`${url}/api/v1/projects/${project.body.id}/api-keys`, adminKey, { name: 'k' });
    assert.equal(key.status, 201);
    const own = await fetch(`${url}/api/v1/projects/${project.body.id}`, {
      headers: { authorization: `Bearer ${key.body.key}` },
    });
    assert.equal(own.status, 200);

    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 5000, `exited in ${Date.now() - t0} ms`);

    // A second start on the same data does not print a new admin key, and the old one still works.
    const again = spawnHookyard(['start', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    const [, url2] = await again.waitFor(/listening on (http:\/\/\S+)/);
    assert.equal(/hya_/.test(again.stdout()), false);
    const list = await fetch(`${url2}/api/v1/projects`, { headers: { authorization: `Bearer ${adminKey}` } });
    assert.equal(list.status, 200);
    again.child.kill('SIGTERM');
    assert.equal((await again.exited).code, 0);

    // keys create works offline on the same data, and the key it prints is accepted by a server.
    const created = await runHookyard([
      'keys',
      'create',
      '--project',
      project.body.id!,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const printed = created.stdout.trim();
    assert.match(printed, /^hyk_/);
    const third = spawnHookyard(['start', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    const [, url3] = await third.waitFor(/listening on (http:\/\/\S+)/);
    const viaCli = await fetch(`${url3}/api/v1/projects/${project.body.id}`, {
      headers: { authorization: `Bearer ${printed}` },
    });
    assert.equal(viaCli.status, 200);
    third.child.kill('SIGTERM');
    await third.exited;
  });

  it('refuses an invalid config value with a message naming the key', async () => {
    const r = await runHookyard(['start', '--port', 'seventy', '--data-dir', tempDir()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port: "seventy" is not allowed; expected an integer from 0 to 65535/);
    const e = await runHookyard(['start', '--data-dir', tempDir()], { HOOKYARD_ROLES: 'everything' });
    assert.equal(e.code, 2);
    assert.match(e.stderr, /HOOKYARD_ROLES: "everything" is not allowed/);
    const u = await runHookyard(['start', '--prot', '1']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /Unknown option '--prot'/);
  });

  it('migrates and prints help for every command', async () => {
    const dataDir = tempDir();
    const m = await runHookyard(['migrate', '--data-dir', dataDir]);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /Applied migrations 1/);
    assert.match((await runHookyard(['migrate', '--data-dir', dataDir])).stdout, /Up to date/);
    for (const cmd of [['--help'], ['start', '--help'], ['migrate', '--help'], ['keys', '--help']]) {
      const h = await runHookyard(cmd);
      assert.equal(h.code, 0, cmd.join(' '));
      assert.match(h.stdout, /Usage: hookyard/);
    }
    assert.match((await runHookyard(['start', '--help'])).stdout, /--data-dir.*HOOKYARD_DATA_DIR/);
    const unknown = await runHookyard(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});
