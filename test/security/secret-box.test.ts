import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createSecretBox, loadMasterKeys, SecretBoxError } from '../../src/security/secret-box.ts';

describe('secret box (AES-256-GCM at rest)', () => {
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };

  it('seals to a ciphertext that hides the plaintext and opens it again', () => {
    const box = createSecretBox([k1]);
    const sealed = box.seal('whsec_very-secret');
    assert.match(sealed, /^hy1\.k1\./);
    assert.equal(sealed.includes('very-secret'), false);
    assert.notEqual(box.seal('whsec_very-secret'), sealed, 'a fresh IV each time');
    assert.equal(box.open(sealed), 'whsec_very-secret');
  });

  it('detects tampering and a wrong key', () => {
    const box = createSecretBox([k1]);
    const sealed = box.seal('token');
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 1;
    const tampered = [...parts.slice(0, 3), ct.toString('base64url')].join('.');
    assert.throws(() => box.open(tampered), /failed authentication/);
    const other = createSecretBox([{ id: 'k1', key: randomBytes(32) }]);
    assert.throws(() => other.open(sealed), SecretBoxError);
    // Relabelling the key id is caught too (the id is authenticated data).
    const relabelled = createSecretBox([k2, { id: 'k3', key: k1.key }]);
    assert.throws(() => relabelled.open(sealed.replace('.k1.', '.k3.')), /failed authentication/);
  });

  it('rotates: the first key seals, older keys still open', () => {
    const old = createSecretBox([k1]).seal('legacy');
    const rotated = createSecretBox([k2, k1]);
    assert.equal(rotated.open(old), 'legacy');
    assert.match(rotated.seal('new'), /^hy1\.k2\./);
    assert.throws(() => createSecretBox([k2]).open(old), /unknown master key "k1"/);
  });

  it('parses HOOKYARD_MASTER_KEY and generates a private key file when it is empty', () => {
    const key = randomBytes(32).toString('base64');
    assert.equal(loadMasterKeys(key, '/nonexistent')[0]?.id, 'k1');
    assert.deepEqual(
      loadMasterKeys(`new:${key},old:${key}`, '/x').map((k) => k.id),
      ['new', 'old'],
    );
    assert.throws(() => loadMasterKeys('c2hvcnQ=', '/x'), /exactly 32 bytes/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hy-keys-'));
    const first = loadMasterKeys('', dir);
    const second = loadMasterKeys('', dir);
    assert.deepEqual(first, second, 'the file is created once and reused');
    assert.equal(statSync(path.join(dir, 'master.key')).mode & 0o777, 0o600);
    assert.match(readFileSync(path.join(dir, 'master.key'), 'utf8'), /^k1:/);
  });
});
