// Entry of the SQLite writer thread. The package runs TypeScript through tsx, and a worker thread
// does not inherit the loader the main thread registered, so the thread's module is loaded
// through tsx here.
import { tsImport } from 'tsx/esm/api';

await tsImport('./writer-thread-worker.ts', import.meta.url);
