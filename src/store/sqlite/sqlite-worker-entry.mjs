// Entry of the SQLite worker thread: loader hooks are not applied to a worker's entry file on
// Node 20, so this plain-JS entry installs tsx and then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-worker.ts');
