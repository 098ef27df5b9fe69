import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface LockEntry {
  link?: boolean;
  hasInstallScript?: boolean;
}

/**
 * `npm install` rewrites package-lock.json whenever an entry's `hasInstallScript` disagrees with
 * the package it installs (npm's rule: a preinstall, install or postinstall script, or a
 * binding.gyp without an install or preinstall script, which implies `node-gyp rebuild`). A clean
 * clone then starts with a modified lock file, so every installed package is checked against it.
 */
test('package-lock.json records install scripts as npm install would', () => {
  const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const wrong: string[] = [];
  let checked = 0;
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || entry.link) continue;
    const manifestFile = path.join(repoRoot, key, 'package.json');
    // Optional packages for other platforms are in the lock but not installed here.
    if (!existsSync(manifestFile)) continue;
    const scripts: Record<string, string> = JSON.parse(readFileSync(manifestFile, 'utf8')).scripts ?? {};
    const gyp =
      existsSync(path.join(repoRoot, key, 'binding.gyp')) && !scripts.install && !scripts.preinstall;
    const expected = Boolean(scripts.preinstall || scripts.install || scripts.postinstall || gyp);
    checked++;
    if (expected !== Boolean(entry.hasInstallScript)) {
      wrong.push(`${key}: hasInstallScript should be ${expected}`);
    }
  }
  assert.ok(checked > 50, `only ${checked} installed packages found: run npm ci first`);
  assert.deepEqual(wrong, [], 'fix these entries in package-lock.json');
});
