// Entry of the SQLite store's worker threads (the writer, the checkpointer). The package runs
// TypeScript through tsx, and a worker thread does not inherit the loader the main thread
// registered, so the thread's module is loaded through tsx here.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData?.entry ?? './writer-thread-worker.ts', import.meta.url);
