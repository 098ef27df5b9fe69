// CPU time of processes and threads, for benchmarks: on a small shared VM the rate moves by ±30%
// from run to run, and CPU per request is the steadier figure to compare (what a change costs).
// Linux /proc only; elsewhere every reading is null and the benches print no CPU column.
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
