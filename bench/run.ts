// Runs every benchmark in turn, each in its own process so one's servers cannot slow another:
//   npm run bench                 (all, default settings)
//   npm run bench -- ingest       (one: ingest | delivery | publish-latency)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const benches: Record<string, string[]> = {
  ingest: ['bench/ingest-bench.ts', '--store', 'both'],
  delivery: ['bench/delivery-bench.ts'],
  'publish-latency': ['bench/publish-latency-bench.ts', '--store', 'both'],
};
const root = path.resolve(import.meta.dirname, '..');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
let failed = false;
for (const [name, args] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  if (!existsSync(path.join(root, args[0] as string))) continue;
  process.stdout.write(`\n=== ${name} ===\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    stdio: 'inherit',
    timeout: 15 * 60_000,
  });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
