// Publish-latency benchmark: the path a user takes. A client in its own process publishes with
// `POST /api/v1/projects/{id}/messages` and a project key, evenly paced (open loop, 1,000/s by
// default), to a Hookyard server in a second process, which delivers each message to a loopback
// receiver in a third. Measured per request: the publish answer's latency, and publish →
// delivered (the receiver's arrival time minus the request's due time). Both are counted from the
// time the request was due on the fixed schedule, not from when it left, so a stall makes the
// requests behind it late and shows (no coordinated omission). The same requests go, in the same
// round, to a bare node:http server that only parses, answers and relays the message to the same
// receiver (bare-publish-server.js): the baseline for both figures.
//
//   node --import tsx bench/publish-latency-bench.ts [--store sqlite|postgres|both] [--rounds 3]
//     [--seconds 5] [--rate 1000] [--quick] [--compare DIR]
//
// `--compare DIR` also runs Hookyard from another checkout (DIR, with its node_modules) in every
// round, next to this one: a change's before and after, measured in the same rounds.
//
// Every server starts once; each round measures the bare server and each Hookyard in turn (the
// bare server first in odd rounds, last in even ones), each after the machine has settled. One
// clock for all: each child process reports `performance.timeOrigin + performance.now()` and the
// parent takes the offset of the round trip with the least delay, so figures across processes
// compare on the parent's clock. Bounded: at most 10 rounds of at most 30 s, loopback only.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres.js';
import { busyBetween, machineTicks, microsPer, processCpuMs, settle, stealBetween } from './cpu-time.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '1000' },
    quick: { type: 'boolean', default: false },
    compare: { type: 'string' },
  },
});
const kinds =
  values.store === 'both' ? (['sqlite', 'postgres'] as const) : [values.store as 'sqlite' | 'postgres'];
if (!kinds.every((k) => k === 'sqlite' || k === 'postgres')) {
  throw new Error('--store must be sqlite, postgres or both');
}
const bounded = (text: string | undefined, min: number, max: number, fallback: number): number => {
  const n = Number(text);
  return Number.isFinite(n) ? Math.max(min, Math.min(max, n)) : fallback;
};
const ROUNDS = values.quick ? 1 : Math.floor(bounded(values.rounds, 1, 10, 3));
const SECONDS = values.quick ? 2 : bounded(values.seconds, 1, 30, 5);
const RATE = Math.floor(bounded(values.rate, 10, 5000, 1000));
const COUNT = Math.round(RATE * SECONDS);
/** A run that has not been delivered this long after its last request is a failure. */
const DELIVERY_TIMEOUT_MS = 60_000;
/** The issue's targets on this machine (SQLite), checked per round. */
const TARGETS = { publishP50: 2, publishP99: 10, deliveredP50: 5, deliveredP99: 25 };
const now = () => performance.timeOrigin + performance.now();

// ---- child processes with a shared clock -----------------------------------------------------

interface IpcChild {
  child: ChildProcess;
  /** This child's clock minus the parent's, ms. */
  offsetMs: number;
  request<T>(msg: object, replyType: string): Promise<T>;
}

async function forkChild(file: string, readyType: string): Promise<IpcChild & { ready: unknown }> {
  const child = fork(path.join(import.meta.dirname, file), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waitFor = <T>(type: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${file} exited (${code}) while awaited`));
      const on = (msg: { type: string }) => {
        if (msg.type !== type) return;
        child.off('message', on);
        child.off('exit', onExit);
        resolve(msg as T);
      };
      child.on('message', on);
      child.once('exit', onExit);
    });
  const ready = await waitFor<unknown>(readyType);
  // NTP's trick: the offset from the round trip with the smallest delay.
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let i = 0; i < 50; i++) {
    const t1 = now();
    const reply = waitFor<{ childNow: number }>('clock');
    child.send({ type: 'clock' });
    const { childNow } = await reply;
    const t3 = now();
    if (t3 - t1 < best.rtt) best = { rtt: t3 - t1, offset: childNow - (t1 + t3) / 2 };
  }
  return {
    child,
    ready,
    offsetMs: best.offset,
    request<T>(msg: object, replyType: string) {
      const reply = waitFor<T>(replyType);
      child.send(msg);
      return reply;
    },
  };
}

async function exitChild(c: IpcChild): Promise<void> {
  if (c.child.exitCode !== null) return;
  const exited = new Promise((r) => c.child.once('exit', r));
  c.child.send({ type: 'exit' });
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (c.child.exitCode === null) c.child.kill('SIGKILL');
}

function spawnServer(
  cmd: string[],
  env: Record<string, string>,
  ready: RegExp,
  cwd = root,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cmd, {
      cwd,
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

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.removeAllListeners('exit');
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** The postmaster's process id, from its data directory's postmaster.pid. */
async function postmasterPid(url: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ setting: string }>(
      "SELECT setting FROM pg_settings WHERE name = 'data_directory'",
    );
    const dir = rows[0]?.setting;
    return dir ? Number(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]) : null;
  } catch {
    return null;
  } finally {
    await client.end();
  }
}

/**
 * CPU ms of one PostgreSQL server: its postmaster and the processes it started (not the other
 * servers on the machine, such as another checkout's or a test suite's); null without /proc.
 */
function databaseCpuMs(postmaster: number | null): number | null {
  if (postmaster === null) return null;
  let sum = processCpuMs(postmaster);
  if (sum === null) return null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) sum += processCpuMs(Number(entry)) ?? 0;
    } catch {
      // The process ended meanwhile.
    }
  }
  return sum;
}

// ---- the servers under test -----------------------------------------------------------------

interface Target {
  name: string;
  url: string;
  authorization: string | null;
  pid: number | undefined;
  /** The PostgreSQL server's postmaster process id (its CPU and its children's are read). */
  databasePid: number | null;
  stop(): Promise<void>;
}

async function startBare(receiverUrl: string): Promise<Target> {
  const { child, match } = await spawnServer(
    ['bench/bare-publish-server.js'],
    { BENCH_RECEIVER_URL: `${receiverUrl}/bare` },
    /listening (\d+)/,
  );
  return {
    name: 'bare node:http (parse, answer, relay)',
    url: `http://127.0.0.1:${match[1]}/`,
    authorization: null,
    pid: child.pid,
    databasePid: null,
    stop: () => stopServer(child),
  };
}

async function startHookyard(
  kind: 'sqlite' | 'postgres',
  receiverUrl: string,
  tree: string | undefined = undefined,
): Promise<Target> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hy-publish-bench-'));
  const database = kind === 'postgres' ? await startEmbeddedPostgres({ durable: true, warmWal: true }) : null;
  const adminKey = `hya_bench_${randomBytes(8).toString('hex')}`;
  const env: Record<string, string> = {
    HOOKYARD_ADMIN_KEY: adminKey,
    HOOKYARD_LOG_LEVEL: 'error',
    HOOKYARD_DATA_DIR: dataDir,
    HOOKYARD_PORT: '0',
    HOOKYARD_HOST: '127.0.0.1',
    HOOKYARD_EGRESS_ALLOW: '127.0.0.1/32',
    ...(database ? { HOOKYARD_DATABASE_URL: database.url } : {}),
  };
  const cleanup = async (child?: ChildProcess) => {
    if (child) await stopServer(child);
    await database?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  let started: Awaited<ReturnType<typeof spawnServer>>;
  try {
    started = await spawnServer(
      ['bin/hookyard.js', 'start'],
      env,
      /listening on (http:\/\/\S+)/,
      tree ?? root,
    );
  } catch (err) {
    await cleanup();
    throw err;
  }
  const { child, match } = started;
  try {
    const base = match[1] as string;
    const post = async <T>(p: string, body: unknown, key = adminKey): Promise<T> => {
      const r = await fetch(base + p, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (r.status >= 300) throw new Error(`POST ${p}: ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    };
    const project = await post<{ id: string }>('/api/v1/projects', { name: 'bench' });
    // As a user would: a project key for publishing, an endpoint at the receiver.
    const { key } = await post<{ key: string }>(`/api/v1/projects/${project.id}/api-keys`, {
      name: 'bench',
    });
    await post(
      `/api/v1/projects/${project.id}/endpoints`,
      { url: `${receiverUrl}/${kind}${tree ? '-compared' : ''}` },
      key,
    );
    return {
      name: `hookyard ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}${tree ? ` (${path.basename(tree)})` : ''}`,
      url: `${base}/api/v1/projects/${project.id}/messages`,
      authorization: `Bearer ${key}`,
      pid: child.pid,
      databasePid: database ? await postmasterPid(database.url) : null,
      stop: () => cleanup(child),
    };
  } catch (err) {
    await cleanup(child);
    throw err;
  }
}

// ---- one measured run -----------------------------------------------------------------------

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

interface RunResult {
  name: string;
  publish: Percentiles;
  delivered: Percentiles;
  /**
   * Arrival at the receiver minus the publish answer's arrival at the client, per message: the time
   * the delivery takes once the publish is answered (negative when it arrives first).
   */
  afterAnswer: Percentiles;
  /** How late the client's timer sent requests after their due time (included in `publish`). */
  lag: Percentiles;
  sent: number;
  deliveredCount: number;
  failures: Record<string, number>;
  /** The machine over the run: stolen and busy shares (0..1), and the 1-minute load average before it. */
  steal: number | null;
  busy: number | null;
  load1: number | null;
  /** CPU of the server process (and PostgreSQL's) per message, µs. */
  serverCpuUs: number | null;
  /** The server's CPU per message, µs: its event loop's and its other threads'. */
  threadCpuUs: Array<[string, number]> | null;
  databaseCpuUs: number | null;
}

function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.floor(p * s.length))] as number);
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: s.length === 0 ? Number.NaN : (s[s.length - 1] as number),
  };
}

/**
 * CPU ms of a process's event loop (its main thread) and of its other threads together (SQLite's
 * writer and checkpointer threads, the thread pool that fsyncs, V8's helpers: on Linux they all
 * carry the name `node`, so they are not told apart); null without /proc.
 */
function cpuByThread(pid: number | undefined): Map<string, number> | null {
  if (pid === undefined) return null;
  try {
    const out = new Map<string, number>([
      ['event loop', 0],
      ['other threads', 0],
    ]);
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = tid === String(pid) ? 'event loop' : 'other threads';
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * 10);
    }
    return out;
  } catch {
    return null;
  }
}

function loadAverage(): number | null {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

interface Receiver extends IpcChild {
  url: string;
}

async function measure(
  target: Target,
  client: IpcChild,
  receiver: Receiver,
  count: number,
): Promise<RunResult> {
  await receiver.request({ type: 'take' }, 'take');
  const load1 = loadAverage();
  const machine0 = machineTicks();
  const server0 = target.pid === undefined ? null : processCpuMs(target.pid);
  const threads0 = cpuByThread(target.pid);
  const database0 = databaseCpuMs(target.databasePid);
  const tag = randomBytes(4).toString('hex');
  const run = await client.request<{
    due: number[];
    answered: Array<number | null>;
    lags: number[];
    failures: Record<string, number>;
  }>(
    {
      type: 'run',
      url: target.url,
      authorization: target.authorization,
      rate: RATE,
      count,
      offsetMs: client.offsetMs,
      run: tag,
    },
    'done',
  );
  const expected = count - Object.values(run.failures).reduce((a, b) => a + b, 0);
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const { count: got } = await receiver.request<{ count: number }>({ type: 'count' }, 'count');
    if (got >= expected) break;
    if (Date.now() > deadline)
      throw new Error(`${target.name}: receiver got ${got} of ${expected} messages in time`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const machine1 = machineTicks();
  const server1 = target.pid === undefined ? null : processCpuMs(target.pid);
  const threads1 = cpuByThread(target.pid);
  const database1 = databaseCpuMs(target.databasePid);
  const { count: deliveredCount, arrivals } = await receiver.request<{
    count: number;
    arrivals: Array<number | null>;
  }>({ type: 'take', run: tag }, 'take');
  const publish: number[] = [];
  const delivered: number[] = [];
  const afterAnswer: number[] = [];
  run.due.forEach((due, i) => {
    const answered = run.answered[i];
    const arrived = arrivals[i];
    if (answered !== null && answered !== undefined) publish.push(answered - due);
    if (arrived !== null && arrived !== undefined) delivered.push(arrived - due);
    if (answered != null && arrived != null) afterAnswer.push(arrived - answered);
  });
  return {
    name: target.name,
    publish: percentiles(publish),
    delivered: percentiles(delivered),
    afterAnswer: percentiles(afterAnswer),
    lag: percentiles(run.lags),
    sent: count,
    deliveredCount,
    failures: run.failures,
    steal: stealBetween(machine0, machine1),
    busy: busyBetween(machine0, machine1),
    load1,
    serverCpuUs: microsPer(server0, server1, count),
    threadCpuUs:
      threads0 && threads1
        ? [...threads1]
            .map(
              ([name, ms]) => [name, ((ms - (threads0.get(name) ?? 0)) * 1000) / count] as [string, number],
            )
            .filter(([, us]) => us >= 1)
            .sort((a, b) => b[1] - a[1])
        : null,
    databaseCpuUs: microsPer(database0, database1, count),
  };
}

// ---- output ---------------------------------------------------------------------------------

const ms = (v: number) => v.toFixed(2).padStart(6);
const pct = (v: number | null) => (v === null ? '  ?' : `${(100 * v).toFixed(1)}%`);
const four = (p: Percentiles) => `${ms(p.p50)} ${ms(p.p90)} ${ms(p.p99)} ${ms(p.max)}`;

function line(round: number, r: RunResult, bare: RunResult | undefined): string {
  const ratio = bare
    ? `  x bare p50: publish ${(r.publish.p50 / bare.publish.p50).toFixed(1)}, delivered ${(r.delivered.p50 / bare.delivered.p50).toFixed(1)}`
    : '';
  const failed = Object.keys(r.failures).length === 0 ? '' : `  FAILED ${JSON.stringify(r.failures)}`;
  const lost = r.deliveredCount < r.sent ? `  delivered ${r.deliveredCount} of ${r.sent}` : '';
  const cpu =
    r.serverCpuUs === null
      ? ''
      : `  CPU ${r.serverCpuUs.toFixed(0)} µs/msg${r.threadCpuUs ? ` (${r.threadCpuUs.map(([n, us]) => `${n} ${us.toFixed(0)}`).join(', ')})` : ''}${r.databaseCpuUs === null ? '' : ` + PostgreSQL ${r.databaseCpuUs.toFixed(0)}`}`;
  return (
    `${String(round).padStart(5)}  ${r.name.padEnd(38)} ${four(r.publish)} | ${four(r.delivered)} | ${ms(r.afterAnswer.p50)} ${ms(r.afterAnswer.p99)}` +
    ` | ${ms(r.lag.p50)} ${ms(r.lag.p99)} | steal ${pct(r.steal)} busy ${pct(r.busy)} load ${r.load1?.toFixed(2) ?? '?'}${cpu}${ratio}${failed}${lost}`
  );
}

const HEADER = `round  ${'server'.padEnd(38)} ${'publish ms: p50    p90    p99    max'.padStart(27)} | ${'delivered ms: p50 p90    p99    max'.padStart(27)} | after answer | ${'lag p50 p99'.padStart(13)} | machine\n`;

function meetsTargets(r: RunResult): string[] {
  const missed: string[] = [];
  if (!(r.publish.p50 < TARGETS.publishP50)) missed.push(`publish p50 ${r.publish.p50.toFixed(2)}`);
  if (!(r.publish.p99 < TARGETS.publishP99)) missed.push(`publish p99 ${r.publish.p99.toFixed(2)}`);
  if (!(r.delivered.p50 < TARGETS.deliveredP50)) missed.push(`delivered p50 ${r.delivered.p50.toFixed(2)}`);
  if (!(r.delivered.p99 < TARGETS.deliveredP99)) missed.push(`delivered p99 ${r.delivered.p99.toFixed(2)}`);
  return missed;
}

// ---- the run --------------------------------------------------------------------------------

async function main(): Promise<void> {
  const receiverChild = await forkChild('publish-latency-receiver.ts', 'ready');
  const receiver: Receiver = {
    ...receiverChild,
    url: `http://127.0.0.1:${(receiverChild.ready as { port: number }).port}`,
  };
  // The receiver and the client report times on the parent's clock (each subtracts its offset).
  receiver.child.send({ type: 'offset', offsetMs: receiver.offsetMs });
  const client = await forkChild('publish-latency-client.ts', 'ready');
  const targets: Target[] = [];
  try {
    targets.push(await startBare(receiver.url));
    for (const kind of kinds) {
      if (values.compare) targets.push(await startHookyard(kind, receiver.url, path.resolve(values.compare)));
      targets.push(await startHookyard(kind, receiver.url));
    }
    process.stdout.write(
      `publish latency: ${RATE}/s evenly paced (open loop) for ${SECONDS} s, ${ROUNDS} round(s), node ${process.version}, ${os.cpus().length} CPUs; client, server and receiver in separate processes on loopback\n` +
        `clock offsets to the parent: client ${client.offsetMs.toFixed(3)} ms, receiver ${receiver.offsetMs.toFixed(3)} ms\n`,
    );
    // Warm-up: connections, JIT, the endpoint's compiled signing keys.
    for (const t of targets) await measure(t, client, receiver, Math.min(COUNT, RATE));
    process.stdout.write(`\n${HEADER}`);
    const rounds: RunResult[][] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      const byName = new Map<string, RunResult>();
      for (const t of order) {
        await settle(5000);
        byName.set(t.name, await measure(t, client, receiver, COUNT));
      }
      const results = targets.map((t) => byName.get(t.name) as RunResult);
      rounds.push(results);
      for (const r of results)
        process.stdout.write(`${line(round, r, r === results[0] ? undefined : results[0])}\n`);
    }
    process.stdout.write(
      `\nTargets (SQLite, every round): publish p50 < ${TARGETS.publishP50} ms, p99 < ${TARGETS.publishP99} ms; publish → delivered p50 < ${TARGETS.deliveredP50} ms, p99 < ${TARGETS.deliveredP99} ms\n`,
    );
    for (let i = 1; i < targets.length; i++) {
      const misses = rounds.map((rs) => meetsTargets(rs[i] as RunResult));
      const met = misses.filter((m) => m.length === 0).length;
      process.stdout.write(
        `${(targets[i] as Target).name}: met in ${met} of ${rounds.length} rounds${
          met < rounds.length
            ? ` (missed: ${misses
                .map((m, r) => (m.length ? `round ${r + 1}: ${m.join(', ')}` : ''))
                .filter(Boolean)
                .join('; ')})`
            : ''
        }\n`,
      );
    }
  } finally {
    for (const t of targets.reverse()) await t.stop();
    await exitChild(client);
    await exitChild(receiver);
  }
}

await main();
