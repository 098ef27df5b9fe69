import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_FILE_MODE, ensureDataDir } from './data-dir.ts';

/**
 * Encrypts secrets and tokens at rest with AES-256-GCM. Each ciphertext carries the id of the key
 * that sealed it (`hy1.<kid>.<iv>.<ciphertext+tag>`, base64url parts), so keys can rotate: the
 * first key in the ring seals, every key in the ring opens.
 */
export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
  readonly activeKeyId: string;
}

const FORMAT = 'hy1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export function createSecretBox(keys: ReadonlyArray<{ id: string; key: Buffer }>): SecretBox {
  const first = keys[0];
  if (!first) throw new SecretBoxError('at least one master key is required');
  const ring = new Map<string, Buffer>();
  for (const k of keys) {
    if (k.key.length !== 32)
      throw new SecretBoxError(`master key "${k.id}" must be 32 bytes, got ${k.key.length}`);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(k.id))
      throw new SecretBoxError(`master key id "${k.id}" must match [A-Za-z0-9_-]{1,32}`);
    ring.set(k.id, k.key);
  }
  return {
    activeKeyId: first.id,
    seal(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', first.key, iv);
      cipher.setAAD(Buffer.from(`${FORMAT}.${first.id}`));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${FORMAT}.${first.id}.${iv.toString('base64url')}.${ct.toString('base64url')}`;
    },
    open(sealed) {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== FORMAT) throw new SecretBoxError('not a sealed secret');
      const [, kid, ivText, ctText] = parts as [string, string, string, string];
      const key = ring.get(kid);
      if (!key)
        throw new SecretBoxError(`sealed with unknown master key "${kid}"; add it to HOOKYARD_MASTER_KEY`);
      const iv = Buffer.from(ivText, 'base64url');
      const body = Buffer.from(ctText, 'base64url');
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES)
        throw new SecretBoxError('sealed secret is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(`${FORMAT}.${kid}`));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(body.subarray(0, body.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new SecretBoxError('sealed secret failed authentication (wrong key or tampered)');
      }
    },
  };
}

/**
 * Parses HOOKYARD_MASTER_KEY: one base64 key (id "k1"), or `kid:base64,kid:base64` with the
 * sealing key first. Empty: reads {dataDir}/master.key, creating it (mode 0600, in a 0700 directory) on first start.
 */
export function loadMasterKeys(spec: string, dataDir: string): Array<{ id: string; key: Buffer }> {
  if (spec.trim() === '') {
    const file = path.join(dataDir, 'master.key');
    if (!existsSync(file)) {
      ensureDataDir(dataDir);
      writeFileSync(file, `k1:${randomBytes(32).toString('base64')}\n`, { mode: DATA_FILE_MODE, flag: 'wx' });
    }
    return parseKeyList(readFileSync(file, 'utf8').trim(), `${file}`);
  }
  return parseKeyList(spec, 'HOOKYARD_MASTER_KEY');
}

function parseKeyList(spec: string, where: string): Array<{ id: string; key: Buffer }> {
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    const id = colon === -1 ? `k${i + 1}` : entry.slice(0, colon);
    const key = Buffer.from(colon === -1 ? entry : entry.slice(colon + 1), 'base64');
    if (key.length !== 32) {
      throw new SecretBoxError(
        `${where}: key "${id}" must be base64 of exactly 32 bytes (got ${key.length} bytes)`,
      );
    }
    return { id, key };
  });
}
