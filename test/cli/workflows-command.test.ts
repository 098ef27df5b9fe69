import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { runHookyard } from '../helpers/process.ts';

describe('hookyard workflows apply against a running server', () => {
  let t: TestHookyard;
  let projectId: string;
  let key: string;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    t = await startTestHookyard('sqlite');
    projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'cli-wf' } })).body.id;
    key = (await t.api('POST', `/api/v1/projects/${projectId}/api-keys`, { body: {} })).body.key;
    dir = mkdtempSync(path.join(os.tmpdir(), 'hy-cli-wf-'));
    // No saved login: the server comes from the environment.
    env = { XDG_CONFIG_HOME: dir, HOOKYARD_URL: t.url, HOOKYARD_KEY: key };
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates from YAML, puts a new version from JSON with the same name, and refuses bad documents', async () => {
    const yamlFile = path.join(dir, 'onboard.yaml');
    writeFileSync(
      yamlFile,
      [
        'name: onboard',
        'trigger:',
        '  type: appEvent',
        '  event: Contact Created',
        'steps:',
        '  - id: greet',
        '    type: code',
        '    code: "function handler(i) { return 1 }"',
        '',
      ].join('\n'),
    );
    const created = await runHookyard(['workflows', 'apply', yamlFile, '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const first = JSON.parse(created.stdout);
    assert.equal(first.version, 1);
    assert.equal(first.created, true);
    assert.match(first.id, /^wf/);

    const jsonFile = path.join(dir, 'onboard.json');
    writeFileSync(
      jsonFile,
      JSON.stringify({
        name: 'onboard',
        trigger: { type: 'appEvent', event: 'Contact Updated' },
        steps: [{ id: 'greet', type: 'code', code: 'function handler(i) { return 2 }' }],
      }),
    );
    const updated = await runHookyard(['workflows', 'apply', jsonFile, '--url', t.url, '--key', key], {
      XDG_CONFIG_HOME: dir,
    });
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, new RegExp(`updated workflow ${first.id} "onboard" version 2`));
    const stored = await t.api('GET', `/api/v1/projects/${projectId}/workflows/${first.id}`, { key });
    assert.equal(stored.body.version, 2);
    assert.equal(stored.body.trigger.event, 'Contact Updated');
    const list = await t.api('GET', `/api/v1/projects/${projectId}/workflows`, { key });
    assert.equal(list.body.items.length, 1);

    const badFile = path.join(dir, 'bad.yaml');
    writeFileSync(badFile, 'name: bad\ntrigger:\n  type: nope\nsteps: []\n');
    const bad = await runHookyard(['workflows', 'apply', badFile], env);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /trigger/);
    assert.match(bad.stderr, /400 validation_failed/);

    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'name: [unclosed\n');
    const unparsable = await runHookyard(['workflows', 'apply', broken], env);
    assert.equal(unparsable.code, 2);
    assert.match(unparsable.stderr, /not valid YAML or JSON/);
    const missing = await runHookyard(['workflows', 'apply'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /FILE is required/);
  });
});
