#!/usr/bin/env node
// The package's command. Sources are TypeScript run through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
