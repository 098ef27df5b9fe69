import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runHookyard, spawnHookyard } from '../helpers/process.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'hy-log-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startAndStop(env: Record<string, string>): Promise<string[]> {
  const p = spawnHookyard(['start', '--port', '0', '--data-dir', tempDir()], env);
  try {
    await p.waitFor(/listening on http/);
  } finally {
    p.child.kill('SIGTERM');
  }
  assert.equal((await p.exited).code, 0, p.stderr());
  return p
    .stdout()
    .split('\n')
    .filter((line) => line.trim() !== '');
}

describe('the server log has one format', () => {
  it('writes only JSON lines when stdout is not a terminal, announcements included', async () => {
    const lines = await startAndStop({});
    assert.ok(lines.length >= 4, lines.join('\n'));
    for (const line of lines) {
      const record = JSON.parse(line) as { level: number; msg: string };
      assert.equal(typeof record.level, 'number', line);
      assert.equal(typeof record.msg, 'string', line);
    }
    const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.ok(messages.some((m) => m.startsWith('Operator (admin) key, shown once')));
    assert.ok(messages.some((m) => m.startsWith('Hookyard is listening on http://')));
    assert.ok(messages.some((m) => m.startsWith('Received SIGTERM')));
  });

  it('writes readable lines with HOOKYARD_LOG_FORMAT=pretty, and no JSON', async () => {
    const lines = await startAndStop({ HOOKYARD_LOG_FORMAT: 'pretty' });
    assert.ok(
      lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Hookyard is listening on http:\/\//.test(l)),
    );
    assert.ok(lines.some((l) => /^\[[\d:.]+\] INFO: migrations applied$/.test(l)));
    assert.equal(
      lines.some((l) => l.startsWith('{')),
      false,
      lines.join('\n'),
    );
  });

  it('refuses an unknown format, naming the allowed ones', async () => {
    const r = await runHookyard(['start', '--data-dir', tempDir()], { HOOKYARD_LOG_FORMAT: 'xml' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /HOOKYARD_LOG_FORMAT: "xml" is not allowed; expected one of: auto, json, pretty/);
  });
});
