// Entry of the sandbox's worker thread. The package runs TypeScript through tsx, and a worker thread
// does not inherit the loader the main thread registered, so the thread's module is loaded here.
import { tsImport } from 'tsx/esm/api';

await tsImport('./sandbox-worker.ts', import.meta.url);
