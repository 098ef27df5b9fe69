#!/usr/bin/env node
// Runs every test file on Node's test runner. Starts one embedded PostgreSQL for the whole run
// (each test file creates its own database in it) unless HOOKYARD_TEST_DATABASE_URL points at a
// server of the developer's own. Extra arguments narrow the files: `npm run test:only -- test/api`.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres } from './embedded-postgres.js';

const root = path.resolve(import.meta.dirname, '..');

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
let files = findTests(path.join(root, 'test')).sort();
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

let pg;
const env = { ...process.env };
if (!env.HOOKYARD_TEST_DATABASE_URL) {
  pg = await startEmbeddedPostgres();
  env.HOOKYARD_TEST_DATABASE_URL = pg.url;
}

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...passthrough, ...files],
  { stdio: 'inherit', env, cwd: root },
);
const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
if (pg) await pg.stop();
process.exit(code);
