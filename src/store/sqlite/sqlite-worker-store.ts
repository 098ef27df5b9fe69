import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { HookyardError, StoreUnavailableError } from '../../domain/errors.ts';
import type { Store } from '../store.ts';
import { restoreBuffers } from './structured-buffers.ts';

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { name?: string; message?: string; code?: string; detail?: string };
}

// The entry installs tsx itself; a second copy of the hooks from an inherited `--import tsx` is dropped.
function workerExecArgv(): string[] {
  const out: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i] as string;
    if ((a === '--import' || a === '--loader') && process.execArgv[i + 1]?.includes('tsx')) {
      i++;
      continue;
    }
    if (a.includes('tsx')) continue;
    out.push(a);
  }
  return out;
}

function toError(e: NonNullable<Reply['error']>): Error {
  if (e.name === 'StoreUnavailableError')
    return new StoreUnavailableError(e.detail ?? e.message ?? 'store unavailable');
  if (e.name === 'HookyardError' && e.code) return new HookyardError(e.code as never, e.detail);
  const err = new Error(e.message ?? 'store error') as Error & { code?: string };
  if (e.code) err.code = e.code;
  return err;
}

/**
 * The SQLite Store as seen from the main thread: every method is a message to the thread that owns
 * the connection. Arguments and results are plain data (structured clone), which the port's
 * methods are kept to. SQLite has no cross-process wake-ups, so listen/notify are absent.
 */
export function createSqliteWorkerStore(file: string): Store {
  const worker = new Worker(new URL('./sqlite-worker-entry.mjs', import.meta.url), {
    workerData: { file: path.resolve(file) },
    execArgv: workerExecArgv(),
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let dead: Error | null = null;

  worker.on('message', (reply: Reply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (reply.ok) p.resolve(restoreBuffers(reply.value));
    else p.reject(toError(reply.error ?? {}));
  });
  const fail = (err: Error) => {
    dead ??= new StoreUnavailableError(`SQLite worker stopped: ${err.message}`, { cause: err });
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
  };
  worker.on('error', fail);
  // Whatever was still waiting when the thread ended (closed, crashed) is answered now.
  worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));

  function call(method: string, args: unknown[]): Promise<unknown> {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });
  }

  let closing: Promise<void> | null = null;
  const special: Record<string, unknown> = {
    kind: 'sqlite',
    listen: undefined,
    notify: undefined,
    then: undefined,
    close: () => {
      closing ??= (async () => {
        if (!dead) await call('close', []).catch(() => {});
        dead ??= new StoreUnavailableError('SQLite store is closed');
        await worker.terminate();
      })();
      return closing;
    },
  };
  return new Proxy({} as Store, {
    get(_target, prop) {
      if (typeof prop !== 'string') return undefined;
      if (prop in special) return special[prop];
      return (...args: unknown[]) => call(prop, args);
    },
  });
}
