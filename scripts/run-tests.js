#!/usr/bin/env node
// Runs the test files on Node's test runner, in one of two suites:
//   node scripts/run-tests.js [FILTER ...]                 every test file except the conformance ones
//   node scripts/run-tests.js --conformance [FILTER ...]   the conformance files (*-conformance.test.ts)
// The main suite (`npm test`) stands on the repository alone. The conformance suite replays the
// providers' cases gathered in the conformance folder beside the repository (../shared/conformance,
// or HOOKYARD_CONFORMANCE_DIR) and refuses to start without it. Starts one embedded PostgreSQL for
// the whole run (each test file creates its own database in it) unless HOOKYARD_TEST_DATABASE_URL
// points at a server of the developer's own. Filters narrow the files: `npm run test:only -- test/api`.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres } from './embedded-postgres.js';

const root = path.resolve(import.meta.dirname, '..');
const CONFORMANCE_FILE = /-conformance\.test\.ts$/;
const CONFORMANCE_FILES = ['vectors.json', 'challenges.json'];

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const args = process.argv.slice(2);
const conformance = args.includes('--conformance');
const filters = args.filter((a) => !a.startsWith('--'));
const passthrough = args.filter((a) => a.startsWith('--') && a !== '--conformance');

const env = { ...process.env };
if (conformance) {
  const dir = path.resolve(env.HOOKYARD_CONFORMANCE_DIR ?? path.join(root, '..', 'shared', 'conformance'));
  const missing = CONFORMANCE_FILES.filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    console.error(
      `The conformance suite needs the providers' conformance data, and ${missing.join(' and ')} ` +
        `${missing.length > 1 ? 'are' : 'is'} not in ${dir}.\n` +
        `Put the conformance folder there (next to the repository: ../shared/conformance), or set ` +
        `HOOKYARD_CONFORMANCE_DIR to the folder that holds ${CONFORMANCE_FILES.join(' and ')}.\n` +
        'The main suite (npm test) does not need it.',
    );
    process.exit(2);
  }
  env.HOOKYARD_CONFORMANCE_DIR = dir;
}

let files = findTests(path.join(root, 'test'))
  .filter((f) => CONFORMANCE_FILE.test(f) === conformance)
  .sort();
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(
    conformance
      ? 'no conformance test files matched'
      : 'no test files matched (the *-conformance.test.ts files run with npm run test:conformance)',
  );
  process.exit(1);
}

let pg;
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
