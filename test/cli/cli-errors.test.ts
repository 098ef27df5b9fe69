import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { runHookyard, spawnHookyard } from '../helpers/process.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'hy-cli-errors-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Standard Webhooks headers for `body`, signed by the provider's own library. */
function signedHeaders(secret: string, body: string, at = new Date()): Record<string, string> {
  return {
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign('msg_1', at, body),
  };
}

/** A stack trace line, which an expected error must never print. */
const STACK = /^\s+at /m;

describe('hookyard command line: expected errors and exit codes', () => {
  it('keys create: a malformed project id is named as such (exit 2)', async () => {
    const r = await runHookyard(['keys', 'create', '--project', 'prj_nope', '--data-dir', tempDir()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--project "prj_nope" is not a project id/);
    assert.doesNotMatch(r.stderr, /is required/);
    const missing = await runHookyard(['keys', 'create', '--data-dir', tempDir()]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--project prj_… is required/);
  });

  it('keys create: an unknown project is one line, no stack trace (exit 1)', async () => {
    const r = await runHookyard([
      'keys',
      'create',
      '--project',
      'prj_000000000abcdefghijklmn',
      '--data-dir',
      tempDir(),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /project prj_000000000abcdefghijklmn was not found/);
    assert.doesNotMatch(r.stderr, STACK);
  });

  it('verify: usage errors exit 2 as its help says; valid 0, invalid 1', async () => {
    const dir = tempDir();
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const body = '{"type":"a.b"}';
    const headers = signedHeaders(secret, body);
    const file = path.join(dir, 'request.json');
    writeFileSync(file, JSON.stringify({ method: 'POST', url: 'https://hooks.example/in/x', headers, body }));
    const tampered = path.join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ method: 'POST', url: 'https://x/', headers, body: '{}' }));

    const usage: string[][] = [
      ['verify', '--provider', 'nope', '--secret', secret, '--request', file],
      ['verify', '--provider', 'standard-webhooks', '--secret', secret],
      ['verify', '--provider', 'standard-webhooks', '--request', file],
      ['verify', '--provider', 'standard-webhooks', '--secret', secret, '--request', path.join(dir, 'none')],
      ['verify', '--provider', 'standard-webhooks', '--secret', secret, '--request', file, '--now', 'soon'],
      ['verify', '--bogus'],
      ['verify', '--event', 'nope', '--data-dir', dir],
    ];
    for (const args of usage) {
      const r = await runHookyard(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^hookyard verify: /);
      assert.doesNotMatch(r.stderr, STACK);
    }
    const valid = await runHookyard([
      'verify',
      '--provider',
      'standard-webhooks',
      '--secret',
      secret,
      '--request',
      file,
    ]);
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(valid.stdout, /^valid/);
    const invalid = await runHookyard([
      'verify',
      '--provider',
      'standard-webhooks',
      '--secret',
      secret,
      '--request',
      tampered,
    ]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stdout, /^invalid: /);
  });

  it('verify --event re-checks a stored event with its source', async () => {
    const dataDir = tempDir();
    const masterKey = randomBytes(32).toString('base64');
    const adminKey = `hya_${randomBytes(16).toString('hex')}`;
    const env = { HOOKYARD_MASTER_KEY: masterKey, HOOKYARD_ADMIN_KEY: adminKey };
    const p = spawnHookyard(['start', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], env);
    let url: string | undefined;
    try {
      [, url] = await p.waitFor(/listening on (http:\/\/\S+)/);
    } finally {
      if (url === undefined) p.child.kill('SIGKILL');
    }
    const api = async (route: string, body: unknown) => {
      const res = await fetch(`${url}${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await res.json()) as { id: string };
    };
    const project = await api('/api/v1/projects', { name: 'verify' });
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const source = await api(`/api/v1/projects/${project.id}/sources`, {
      provider: 'standard-webhooks',
      secrets: [secret],
    });
    const body = '{"type":"invoice.paid"}';
    const signed = signedHeaders(secret, body);
    const sent = await fetch(`${url}/in/${source.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signed },
      body,
    });
    const answer = (await sent.json()) as { id: string };
    p.child.kill('SIGTERM');
    assert.equal((await p.exited).code, 0);
    assert.equal(sent.status, 200, JSON.stringify(answer));
    const eventId = answer.id;

    const ok = await runHookyard(['verify', '--event', eventId, '--data-dir', dataDir], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^valid/);
    const withProject = await runHookyard(
      ['verify', '--event', eventId, '--project', project.id, '--data-dir', dataDir],
      env,
    );
    assert.equal(withProject.code, 0, withProject.stderr);
    // Judged an hour after it arrived, its timestamp is out of tolerance.
    const late = await runHookyard(
      [
        'verify',
        '--event',
        eventId,
        '--data-dir',
        dataDir,
        '--now',
        String(Math.floor(Date.now() / 1000) + 3600),
      ],
      env,
    );
    assert.equal(late.code, 1);
    assert.match(late.stdout, /^invalid: /);
    const unknown = await runHookyard(
      ['verify', '--event', 'evt_000000000abcdefghijklmn', '--data-dir', dataDir],
      env,
    );
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /event evt_000000000abcdefghijklmn was not found/);
  });
});
