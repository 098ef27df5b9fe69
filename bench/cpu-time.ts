// CPU time of processes and threads, for benchmarks: on a small shared VM the rate moves by ±30%
// from run to run, and CPU per request is the steadier figure to compare (what a change costs).
// Linux /proc only; elsewhere every reading is null and the benches print no CPU column.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime of a process or a thread (`/proc/<pid>/task/<tid>`), in ms; null when unreadable. */
function cpuMsOf(statPath: string): number | null {
  try {
    const stat = readFileSync(statPath, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

export function processCpuMs(pid: number): number | null {
  return cpuMsOf(`/proc/${pid}/stat`);
}

/**
 * CPU ms of a process's main thread (its task with the process's own id): for a Node.js server,
 * the event loop, apart from its worker threads (SQLite's writer) and libuv's pool.
 */
export function mainThreadCpuMs(pid: number): number | null {
  return cpuMsOf(`/proc/${pid}/task/${pid}/stat`);
}

/** CPU ms of every process whose command name is `name` (e.g. the PostgreSQL server's processes). */
export function processesCpuMs(name: string): number | null {
  if (!existsSync('/proc')) return null;
  let sum = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== name) continue;
    } catch {
      continue;
    }
    sum += cpuMsOf(`/proc/${entry}/stat`) ?? 0;
  }
  return sum;
}

/** CPU ms per thread of this process, by thread id. */
export function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync('/proc/self/task')) return out;
  for (const tid of readdirSync('/proc/self/task')) {
    const ms = cpuMsOf(`/proc/self/task/${tid}/stat`);
    if (ms !== null) out.set(tid, ms);
  }
  return out;
}

/** µs per unit of work between two readings, or null. */
export function microsPer(beforeMs: number | null, afterMs: number | null, units: number): number | null {
  if (beforeMs === null || afterMs === null || units <= 0) return null;
  return ((afterMs - beforeMs) * 1000) / units;
}

/**
 * The machine's CPU ticks so far (idle counts iowait too; steal is time the hypervisor gave this
 * VM's cores to others), from /proc/stat; null without /proc.
 */
export function machineTicks(): { idle: number; steal: number; total: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number);
    if (!f || f.length < 5) return null;
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { idle, steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/**
 * The machine's busy share (0..1) between two readings of machineTicks, or null. A run that
 * leaves the cores idle is bound by its pipeline (requests waiting on a commit), not by CPU.
 */
export function busyBetween(
  a: ReturnType<typeof machineTicks>,
  b: ReturnType<typeof machineTicks>,
): number | null {
  if (!a || !b || b.total === a.total) return null;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * The share (0..1) of the machine's time between two readings of machineTicks that the hypervisor
 * gave to other guests (steal), or null. A run with steal competed with the host's other load.
 */
export function stealBetween(
  a: ReturnType<typeof machineTicks>,
  b: ReturnType<typeof machineTicks>,
): number | null {
  if (!a || !b || b.total === a.total) return null;
  return (b.steal - a.steal) / (b.total - a.total);
}

/** The machine's busy share (0..1) over `ms`; null without /proc. */
async function busyShare(ms: number): Promise<number | null> {
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  return busyBetween(a, machineTicks());
}

/** The kernel's page cache still to be written to disk (Dirty + Writeback), in KiB; null without /proc. */
export function unwrittenKiB(): number | null {
  try {
    const info = readFileSync('/proc/meminfo', 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(info)?.[1] ?? 0);
    return kib('Dirty') + kib('Writeback');
  } catch {
    return null;
  }
}

/**
 * Waits until the machine is quiet, at most `maxMs`: what a server still does after its run
 * (PostgreSQL's checkpoint and autovacuum, SQLite's last checkpoint, and the kernel writing back
 * the page cache they dirtied) must not be measured as the next server's cost. First it has the
 * kernel write back what the last run left (`sync`: a durable server's run leaves hundreds of MB
 * that the kernel would otherwise write out in a burst up to 30 s later, inside the next run),
 * then it waits for under 10% busy over half a second. Returns the ms waited.
 */
export async function settle(maxMs = 15_000): Promise<number> {
  const started = Date.now();
  if (existsSync('/proc/meminfo')) {
    await new Promise<void>((resolve) => execFile('sync', { timeout: maxMs }, () => resolve()));
  }
  while (Date.now() - started < maxMs) {
    const busy = await busyShare(500);
    if (busy === null || busy < 0.1) break;
  }
  return Date.now() - started;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
