// Ingest benchmark: drives POST /in/{sourceId} with a signed 1 KiB JSON body (GitHub scheme; each
// request a new X-GitHub-Delivery so every one is a new event and a real commit) from this process
// with autocannon, at 50 connections on loopback, and compares with bare node:http verifying the
// same HMAC without storing, measured in the same run. With the SQLite store it also measures three
// floors: the same minimal server storing each request in SQLite with group commit, with the
// connection on its event loop, on a writer thread as Hookyard has it, and on a writer thread
// with Hookyard's fast HTTP path reading the requests, as Hookyard's ingest does (see
// minimal-store-server.js), and prints Hookyard's rate as a share of each. Servers run as child
// processes.
//   node --import tsx bench/ingest-bench.ts [--seconds 10] [--rounds 3] [--connections 50]
//     [--store sqlite|postgres|both] [--load wrk|autocannon] [--ids sequential|random]
//     [--floor true|false] [--pg-stats] [--pg-wal warm|fresh]
// All servers start once; each round drives every one of them in turn (in order in odd rounds, in
// reverse in even ones, so the bare server is first, then last) once the machine is quiet again,
// and the summary gives medians.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres.js';
import {
  busyBetween,
  machineTicks,
  mainThreadCpuMs,
  median,
  microsPer,
  processCpuMs,
  processesCpuMs,
  settle,
  unwrittenKiB,
} from './cpu-time.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    store: { type: 'string', default: 'sqlite' },
    load: { type: 'string', default: 'auto' },
    // sequential: `{prefix}-{n}` (time-ordered, like KSUID or Standard Webhooks ids); random: 128
    // random bits per delivery (like GitHub's GUIDs or Stripe's ids), which lands each insert on
    // a different page of the dedupe index.
    ids: { type: 'string', default: 'sequential' },
    // `false` skips the floors (minimal-store-server.js), which only run with the SQLite store.
    floor: { type: 'string', default: 'true' },
    // PostgreSQL's costliest statements (pg_stat_statements), printed when its Hookyard stops.
    'pg-stats': { type: 'boolean', default: false },
    // warm: PostgreSQL starts with recycled WAL segments, as a server that has run a while
    // (scripts/embedded-postgres.js, warmWriteAheadLog); fresh: as initdb left it.
    'pg-wal': { type: 'string', default: 'warm' },
  },
});
const randomIds = values.ids === 'random';
// wrk (C, one thread) leaves more of the two cores to the servers than autocannon (Node) does;
// `--load autocannon` forces the npm load generator, `auto` takes wrk when it is installed.
const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
const loadTool =
  values.load === 'auto' ? (hasWrk ? 'wrk' : 'autocannon') : (values.load as 'wrk' | 'autocannon');
const seconds = Math.min(60, Number(values.seconds));
const roundCount = Math.max(1, Math.min(10, Number(values.rounds)));
const connections = Math.min(500, Number(values.connections));
const SECRET = 'bench-secret';

function oneKiBBody(): string {
  const base = {
    action: 'opened',
    repository: { id: 1296269, full_name: 'octocat/Hello-World' },
    sender: { login: 'octocat' },
  };
  let body = JSON.stringify({ ...base, padding: '' });
  body = JSON.stringify({ ...base, padding: 'x'.repeat(1024 - body.length) });
  return body;
}
const BODY = oneKiBBody();
const SIGNATURE = `sha256=${createHmac('sha256', SECRET).update(BODY).digest('hex')}`;

function spawnServer(
  cmd: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cmd, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    });
    child.stderr?.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.removeAllListeners('exit');
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

export interface LoadResult {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  total: number;
  /** CPU of the server process (all its threads) per request, µs; null without /proc. */
  serverCpuUs: number | null;
  /** CPU of the server's main thread (the event loop) per request, µs. */
  eventLoopCpuUs: number | null;
  /** The machine's busy share over the run (0..1; under ~0.9 the run was not bound by CPU). */
  machineBusy: number | null;
  /** CPU of the PostgreSQL server's processes per request, µs (Hookyard on PostgreSQL only). */
  databaseCpuUs: number | null;
  /** The page cache the runs before left unwritten (MB), which settle() had written back before this run. */
  unwrittenMbBefore?: number | null;
}

/** What the load generator measures (the CPU figures are read around it). */
type LoadFigures = Omit<LoadResult, 'serverCpuUs' | 'eventLoopCpuUs' | 'machineBusy' | 'databaseCpuUs'>;

/** What to read CPU time from while the measured run goes. */
interface CpuProbe {
  pid: number | undefined;
  database: boolean;
}

function wrkScript(prefix: string): string {
  // Lua's generator starts from the same seed in every wrk run: without a seed of its own, the
  // measured run would repeat the warm-up run's "random" ids and be answered as duplicates.
  const seed = randomBytes(4).readUInt32LE(0) % 1_000_000_000;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hy-wrk-'));
  const file = path.join(dir, 'ingest.lua');
  // Each wrk thread gets its own counter and id prefix, so every request is a distinct delivery.
  writeFileSync(
    file,
    `local body = ${JSON.stringify(BODY)}
local n = 0
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) prefix = "${prefix}-" .. tostring(tid) .. "-"; math.randomseed(${seed} + tid) end
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["x-github-event"] = "issues"
wrk.headers["x-hub-signature-256"] = "${SIGNATURE}"
function request()
  n = n + 1
  ${randomIds ? 'wrk.headers["x-github-delivery"] = string.format("%08x%08x%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), n)' : 'wrk.headers["x-github-delivery"] = prefix .. n'}
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests":%d,"non2xx":%d,"errors":%d,"p50us":%d,"p99us":%d}\\n',
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`,
  );
  return file;
}

async function driveWrk(name: string, url: string, durationSeconds: number): Promise<LoadFigures> {
  const script = wrkScript(randomBytes(4).toString('hex'));
  const r = spawnSync(
    'wrk',
    ['-t1', `-c${connections}`, `-d${durationSeconds}s`, '--timeout', '10s', '-s', script, url],
    {
      encoding: 'utf8',
      timeout: (durationSeconds + 30) * 1000,
    },
  );
  rmSync(path.dirname(script), { recursive: true, force: true });
  const m = /RESULT (\{.*\})/.exec(r.stdout ?? '');
  if (!m) throw new Error(`wrk failed: ${r.stdout} ${r.stderr}`);
  const x = JSON.parse(m[1] as string) as {
    requests: number;
    non2xx: number;
    errors: number;
    p50us: number;
    p99us: number;
  };
  return {
    name,
    requestsPerSecond: (x.requests - x.non2xx) / durationSeconds,
    p50Ms: x.p50us / 1000,
    p99Ms: x.p99us / 1000,
    non2xx: x.non2xx,
    errors: x.errors,
    total: x.requests,
  };
}

async function drive(
  name: string,
  url: string,
  durationSeconds: number,
  probe: CpuProbe = { pid: undefined, database: false },
): Promise<LoadResult> {
  const server0 = probe.pid === undefined ? null : processCpuMs(probe.pid);
  const loop0 = probe.pid === undefined ? null : mainThreadCpuMs(probe.pid);
  const database0 = probe.database ? processesCpuMs('postgres') : null;
  const machine0 = machineTicks();
  const result = await driveLoad(name, url, durationSeconds);
  const machine1 = machineTicks();
  const server1 = probe.pid === undefined ? null : processCpuMs(probe.pid);
  const loop1 = probe.pid === undefined ? null : mainThreadCpuMs(probe.pid);
  const database1 = probe.database ? processesCpuMs('postgres') : null;
  return {
    ...result,
    serverCpuUs: microsPer(server0, server1, result.total),
    eventLoopCpuUs: microsPer(loop0, loop1, result.total),
    machineBusy: busyBetween(machine0, machine1),
    databaseCpuUs: microsPer(database0, database1, result.total),
  };
}

async function driveLoad(name: string, url: string, durationSeconds: number): Promise<LoadFigures> {
  if (loadTool === 'wrk') return driveWrk(name, url, durationSeconds);
  let n = 0;
  const prefix = randomBytes(4).toString('hex');
  const result = await autocannon({
    url,
    connections,
    duration: durationSeconds,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-hub-signature-256': SIGNATURE,
    },
    body: BODY,
    requests: [
      {
        setupRequest: (req) => {
          const id = randomIds ? randomBytes(16).toString('hex') : `${prefix}-${n++}`;
          req.headers = { ...req.headers, 'x-github-delivery': id };
          return req;
        },
      },
    ],
  });
  const ok = result['2xx'];
  return {
    name,
    requestsPerSecond: ok / durationSeconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

/** A server under test, started once and measured in every round. */
interface Target {
  name: string;
  url: string;
  probe: CpuProbe;
  stop: () => Promise<void>;
}

async function startHookyard(storeKind: 'sqlite' | 'postgres'): Promise<Target> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hy-bench-'));
  const pg =
    storeKind === 'postgres'
      ? await startEmbeddedPostgres({
          durable: true,
          statements: values['pg-stats'],
          warmWal: values['pg-wal'] !== 'fresh',
        })
      : null;
  const adminKey = `hya_bench_${randomBytes(8).toString('hex')}`;
  const env: Record<string, string> = {
    HOOKYARD_ADMIN_KEY: adminKey,
    HOOKYARD_LOG_LEVEL: 'error',
    HOOKYARD_DATA_DIR: dataDir,
    HOOKYARD_PORT: '0',
    ...(pg ? { HOOKYARD_DATABASE_URL: pg.url } : {}),
  };
  const cleanup = async (child?: ChildProcess) => {
    if (child) await stop(child);
    if (pg && values['pg-stats']) console.table(await pg.topStatements());
    await pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  let started: Awaited<ReturnType<typeof spawnServer>>;
  try {
    started = await spawnServer(['bin/hookyard.js', 'start'], env, /listening on (http:\/\/\S+)/);
  } catch (err) {
    await cleanup();
    throw err;
  }
  const { child, match } = started;
  try {
    const base = match[1] as string;
    const post = async (p: string, body: unknown) => {
      const r = await fetch(base + p, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await r.json()) as { id: string };
    };
    const project = await post('/api/v1/projects', { name: 'bench' });
    const source = await post(`/api/v1/projects/${project.id}/sources`, {
      provider: 'github',
      secrets: [SECRET],
    });
    const url = `${base}/in/${source.id}`;
    await drive('warm-up', url, 2);
    return {
      name: `hookyard /in (${storeKind}, fsync on commit)`,
      url,
      probe: { pid: child.pid, database: pg !== null },
      stop: () => cleanup(child),
    };
  } catch (err) {
    await cleanup(child);
    throw err;
  }
}

async function startBare(): Promise<Target> {
  const { child, match } = await spawnServer(
    ['bench/bare-ingest-server.js'],
    { BENCH_SECRET: SECRET },
    /listening (\d+)/,
  );
  const url = `http://127.0.0.1:${match[1]}/`;
  await drive('warm-up', url, 2);
  return {
    name: 'bare node:http + HMAC (no store)',
    url,
    probe: { pid: child.pid, database: false },
    stop: () => stop(child),
  };
}

const FLOOR_NAMES = {
  loop: 'minimal node:http + HMAC + SQLite group commit on the event loop (floor)',
  thread: 'minimal node:http + HMAC + SQLite group commit on a writer thread (floor)',
  fast: 'minimal fast HTTP path + HMAC + SQLite group commit on a writer thread (floor)',
} as const;
const FLOOR_SHAPES = ['loop', 'thread', 'fast'] as const;
type FloorShape = (typeof FLOOR_SHAPES)[number];
const FLOOR_WHERE: Record<FloorShape, string> = {
  loop: 'on the event loop',
  thread: "on a writer thread (Hookyard's shape before the fast HTTP path)",
  fast: "on a writer thread, read by the fast HTTP path (Hookyard's shape)",
};

async function startFloor(shape: FloorShape): Promise<Target> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hy-floor-'));
  const cleanup = async (child?: ChildProcess) => {
    if (child) await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  let started: Awaited<ReturnType<typeof spawnServer>>;
  try {
    started = await spawnServer(
      shape === 'fast'
        ? ['--import', 'tsx', 'bench/minimal-store-server.js']
        : ['bench/minimal-store-server.js'],
      {
        BENCH_SECRET: SECRET,
        BENCH_DATA_DIR: dataDir,
        BENCH_FLOOR_WRITER: shape === 'loop' ? 'loop' : 'thread',
        BENCH_FLOOR_HTTP: shape === 'fast' ? 'fast' : 'node',
      },
      /listening (\d+)/,
    );
  } catch (err) {
    await cleanup();
    throw err;
  }
  const { child, match } = started;
  try {
    const url = `http://127.0.0.1:${match[1]}/`;
    await drive('warm-up', url, 2);
    return {
      name: FLOOR_NAMES[shape],
      url,
      probe: { pid: child.pid, database: false },
      stop: () => cleanup(child),
    };
  } catch (err) {
    await cleanup(child);
    throw err;
  }
}

export interface IngestBenchResult {
  /** Every measured run: round r (1-based), in the order servers started (the bare server first). */
  rounds: Array<{ round: number; results: LoadResult[] }>;
  /** Per scenario: the median over rounds of its rate, latencies and CPU, and of its ratio to the bare run of the same round. */
  summary: Array<LoadResult & { ratio: number }>;
  /**
   * Per floor shape, the median over rounds of Hookyard on SQLite's rate over that floor's; empty
   * when the floors or Hookyard on SQLite did not run.
   */
  shareOfFloor: Partial<Record<FloorShape, number>>;
}

/**
 * Runs the bare server, the floors (with SQLite) and Hookyard (per store) side by side, all started
 * once, alternating in `rounds` rounds: this VM's speed drifts by up to 2x within an hour, so a
 * figure is compared only with the bare run (or the floor run) of its own round, and the summary
 * takes medians over rounds.
 */
export async function runIngestBench(): Promise<IngestBenchResult> {
  const kinds =
    values.store === 'both' ? (['sqlite', 'postgres'] as const) : [values.store as 'sqlite' | 'postgres'];
  const targets: Target[] = [];
  const floors: Array<{ shape: FloorShape; target: Target }> = [];
  let sqliteHookyard: Target | undefined;
  try {
    targets.push(await startBare());
    if (values.floor !== 'false' && kinds.includes('sqlite')) {
      for (const shape of FLOOR_SHAPES) {
        const target = await startFloor(shape);
        floors.push({ shape, target });
        targets.push(target);
      }
    }
    for (const kind of kinds) {
      const t = await startHookyard(kind);
      if (kind === 'sqlite') sqliteHookyard = t;
      targets.push(t);
    }
    const rounds: IngestBenchResult['rounds'] = [];
    for (let round = 1; round <= roundCount; round++) {
      // Reversed, not rotated: besides the bare server, the floor and Hookyard on SQLite (read as
      // a pair) must also swap places, or the drift within a round biases their ratio one way.
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      const byName = new Map<string, LoadResult>();
      for (const t of order) {
        const unwritten = unwrittenKiB();
        await settle();
        const result = await drive(t.name, t.url, seconds, t.probe);
        byName.set(t.name, { ...result, unwrittenMbBefore: unwritten === null ? null : unwritten / 1024 });
      }
      rounds.push({ round, results: targets.map((t) => byName.get(t.name) as LoadResult) });
    }
    const summary = targets.map((t, i) => {
      const runs = rounds.map((r) => r.results[i] as LoadResult);
      const bare = rounds.map((r) => r.results[0] as LoadResult);
      const cpu = (pick: (r: LoadResult) => number | null) => {
        const got = runs.map(pick).filter((v): v is number => v !== null);
        return got.length === 0 ? null : median(got);
      };
      return {
        name: t.name,
        requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
        ratio: median(runs.map((r, k) => r.requestsPerSecond / (bare[k] as LoadResult).requestsPerSecond)),
        p50Ms: median(runs.map((r) => r.p50Ms)),
        p99Ms: median(runs.map((r) => r.p99Ms)),
        non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
        errors: runs.reduce((n, r) => n + r.errors, 0),
        total: runs.reduce((n, r) => n + r.total, 0),
        serverCpuUs: cpu((r) => r.serverCpuUs),
        eventLoopCpuUs: cpu((r) => r.eventLoopCpuUs),
        machineBusy: cpu((r) => r.machineBusy),
        databaseCpuUs: cpu((r) => r.databaseCpuUs),
      };
    });
    const cpuCell = (v: number | null) => (v === null ? '' : Math.round(v));
    const busyCell = (v: number | null) => (v === null ? '' : `${Math.round(v * 100)}%`);
    process.stdout.write(
      `\nIngest: ${loadTool}, ${connections} connections, ${roundCount} alternating rounds of ${seconds} s per server, 1 KiB signed JSON body, ${randomIds ? 'random' : 'sequential'} delivery ids, Node ${process.version}, ${os.cpus().length} cores\n`,
    );
    console.table(
      rounds.flatMap((r) =>
        r.results.map((x) => ({
          round: r.round,
          scenario: x.name,
          'req/s (2xx)': Math.round(x.requestsPerSecond),
          'ratio vs bare': (x.requestsPerSecond / (r.results[0] as LoadResult).requestsPerSecond).toFixed(2),
          'p50 ms': x.p50Ms,
          'p99 ms': x.p99Ms,
          'server CPU µs/req': cpuCell(x.serverCpuUs),
          'event loop µs/req': cpuCell(x.eventLoopCpuUs),
          'machine busy': busyCell(x.machineBusy),
          'unwritten MB before': x.unwrittenMbBefore == null ? '' : Math.round(x.unwrittenMbBefore),
        })),
      ),
    );
    process.stdout.write(
      `Medians over the ${roundCount} rounds (ratio: the median of each round's ratio):\n`,
    );
    console.table(
      summary.map((r) => ({
        scenario: r.name,
        'req/s (2xx)': Math.round(r.requestsPerSecond),
        'ratio vs bare': r.ratio.toFixed(2),
        'p50 ms': Number(r.p50Ms.toFixed(2)),
        'p99 ms': Number(r.p99Ms.toFixed(2)),
        'non-2xx': r.non2xx,
        errors: r.errors,
        'server CPU µs/req': cpuCell(r.serverCpuUs),
        'event loop µs/req': cpuCell(r.eventLoopCpuUs),
        'machine busy': busyCell(r.machineBusy),
        'database CPU µs/req': cpuCell(r.databaseCpuUs),
      })),
    );
    const sqliteIndex = sqliteHookyard ? targets.indexOf(sqliteHookyard) : -1;
    const shareOfFloor: IngestBenchResult['shareOfFloor'] = {};
    for (const { shape, target } of sqliteIndex < 0 ? [] : floors) {
      const floorIndex = targets.indexOf(target);
      const share = median(
        rounds.map(
          (r) =>
            (r.results[sqliteIndex] as LoadResult).requestsPerSecond /
            (r.results[floorIndex] as LoadResult).requestsPerSecond,
        ),
      );
      shareOfFloor[shape] = share;
      process.stdout.write(
        `Hookyard on SQLite reaches ${share.toFixed(2)} of the floor's rate with SQLite ${FLOOR_WHERE[shape]} (the median of each round's ratio).\n`,
      );
    }
    return { rounds, summary, shareOfFloor };
  } finally {
    for (const t of targets.reverse()) await t.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runIngestBench();
}
