import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CONFIG_DEFAULTS, CONFIG_KEYS, ConfigError, loadConfig } from '../src/config.ts';

describe('config', () => {
  it('has documented defaults for every key', () => {
    const c = loadConfig({ env: {}, cwd: '/srv' });
    assert.equal(c.port, 7070);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.dataDir, '/srv/.hookyard');
    assert.equal(c.databaseUrl, '');
    assert.deepEqual(c.roles, ['api', 'ingest', 'delivery']);
    assert.equal(c.publicBaseUrl, 'http://127.0.0.1:7070');
    assert.ok(Object.isFrozen(c));
    for (const key of Object.keys(CONFIG_KEYS)) {
      assert.ok(key in CONFIG_DEFAULTS, `${key} has a default`);
      assert.ok(CONFIG_KEYS[key as keyof typeof CONFIG_KEYS].doc.length > 10, `${key} is documented`);
    }
  });

  it('layers file, then env, then flags', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hy-config-'));
    const file = path.join(dir, 'hookyard.json');
    writeFileSync(
      file,
      JSON.stringify({ port: 8000, logLevel: 'debug', roles: ['ingest'], host: '0.0.0.0' }),
    );
    const fromFile = loadConfig({ env: {}, file });
    assert.equal(fromFile.port, 8000);
    assert.equal(fromFile.logLevel, 'debug');
    assert.deepEqual(fromFile.roles, ['ingest']);
    assert.equal(fromFile.publicBaseUrl, 'http://localhost:8000');
    const fromEnv = loadConfig({ env: { HOOKYARD_CONFIG: file, HOOKYARD_PORT: '8100' } });
    assert.equal(fromEnv.port, 8100);
    assert.equal(fromEnv.logLevel, 'debug');
    const fromFlag = loadConfig({ env: { HOOKYARD_PORT: '8100' }, file, flags: { port: '8200' } });
    assert.equal(fromFlag.port, 8200);
  });

  it('rejects invalid values naming the key and what is allowed', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { HOOKYARD_PORT: 'eighty' },
        /HOOKYARD_PORT: "eighty" is not allowed; expected an integer from 0 to 65535/,
      ],
      [{ HOOKYARD_PORT: '70000' }, /HOOKYARD_PORT/],
      [
        { HOOKYARD_LOG_LEVEL: 'loud' },
        /HOOKYARD_LOG_LEVEL: "loud" is not allowed; expected one of: fatal, error/,
      ],
      [
        { HOOKYARD_ROLES: 'api,cooking' },
        /HOOKYARD_ROLES: "cooking" is not allowed; expected "all" or some of: api, ingest, delivery/,
      ],
      [{ HOOKYARD_DATABASE_URL: 'mysql://x' }, /HOOKYARD_DATABASE_URL: expected a postgres:\/\//],
      [{ HOOKYARD_PUBLIC_BASE_URL: 'ftp://x' }, /HOOKYARD_PUBLIC_BASE_URL/],
      [
        { HOOKYARD_EGRESS_ALLOW: '127.0.0.1/32,not-a-cidr' },
        /HOOKYARD_EGRESS_ALLOW: "not-a-cidr" is not a CIDR/,
      ],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadConfig({ env }),
        (err: Error) => err instanceof ConfigError && message.test(err.message),
      );
    }
    assert.throws(() => loadConfig({ env: {}, flags: { port: 'x' } }), /--port/);
  });

  it('rejects unknown keys and bad JSON in the config file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hy-config-'));
    const unknown = path.join(dir, 'a.json');
    writeFileSync(unknown, JSON.stringify({ prot: 1 }));
    assert.throws(() => loadConfig({ env: {}, file: unknown }), /unknown key "prot"; expected one of: port/);
    const bad = path.join(dir, 'b.json');
    writeFileSync(bad, '{ port: ');
    assert.throws(() => loadConfig({ env: {}, file: bad }), ConfigError);
  });
});
