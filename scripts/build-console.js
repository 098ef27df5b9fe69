#!/usr/bin/env node
// Builds the web console (console/) into console/dist with Vite; `npm install` runs it (prepare).
// Without the dev dependencies (npm install --omit=dev) there is no Vite: it says so and exits 0,
// and /console answers with how to build it.
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', 'console');
let vite;
try {
  vite = await import('vite');
} catch {
  console.warn(
    'console not built: Vite is not installed (dev dependencies left out). Run `npm install` with dev dependencies, then `npm run build:console`.',
  );
  process.exit(0);
}
await vite.build({ root, configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn' });
console.log(`console built into ${path.join(root, 'dist')}`);
