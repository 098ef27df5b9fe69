import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const HOOKYARD_BIN = path.join(REPO_ROOT, 'bin', 'hookyard.js');

export interface RunningProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `pattern` in stdout (rejects after timeoutMs or on exit). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `hookyard …` as a real child process. */
export function spawnHookyard(args: string[], env: Record<string, string> = {}): RunningProcess {
  const child = spawn(process.execPath, [HOOKYARD_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          clearInterval(poll);
          reject(new Error(`timed out waiting for ${pattern}; stdout: ${out}\nstderr: ${err}`));
        }, timeoutMs);
        const poll = setInterval(() => {
          const m = out.match(pattern);
          if (m) {
            clearTimeout(timer);
            clearInterval(poll);
            resolve(m);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            clearInterval(poll);
            reject(
              new Error(
                `process exited (${child.exitCode}) before ${pattern}; stdout: ${out}\nstderr: ${err}`,
              ),
            );
          }
        }, 20);
      });
    },
  };
}

/** Runs `hookyard …` to completion. */
export async function runHookyard(args: string[], env: Record<string, string> = {}) {
  const p = spawnHookyard(args, env);
  const { code } = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}
