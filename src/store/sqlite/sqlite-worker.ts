import { parentPort, workerData } from 'node:worker_threads';
import { createSqlStore } from '../sql/sql-store.ts';
import type { Store } from '../store.ts';
import { SqliteDb } from './sqlite-db.ts';
import { restoreBuffers } from './structured-buffers.ts';

/**
 * The thread that owns the SQLite connection. The main thread's Store is a proxy that sends each
 * call here by method name (see sqlite-worker-store.ts), so parsing, verifying and answering HTTP
 * never wait behind SQLite work on the same core. Calls run in arrival order on one connection.
 */
const { file } = workerData as { file: string };
const store: Store = createSqlStore(new SqliteDb(file));
const port = parentPort;
if (!port) throw new Error('sqlite-worker must run in a worker thread');

interface Call {
  id: number;
  method: string;
  args: unknown[];
}

port.on('message', (call: Call) => {
  const fn = (store as unknown as Record<string, unknown>)[call.method];
  if (typeof fn !== 'function') {
    port.postMessage({
      id: call.id,
      ok: false,
      error: { name: 'Error', message: `no store method ${call.method}` },
    });
    return;
  }
  Promise.resolve()
    .then(() => (fn as (...a: unknown[]) => unknown).apply(store, restoreBuffers(call.args) as unknown[]))
    .then(
      (value) => port.postMessage({ id: call.id, ok: true, value }),
      (err: unknown) => {
        const e = err as { name?: string; message?: string; code?: string; detail?: string };
        port.postMessage({
          id: call.id,
          ok: false,
          error: { name: e.name, message: e.message, code: e.code, detail: e.detail },
        });
      },
    );
});
