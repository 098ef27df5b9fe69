// Regenerates the docs that are derived from code: configuration table, error catalogue and the
// OpenAPI document. `npm run docs` writes them; test/docs.test.ts fails when they are stale.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { CONFIG_DEFAULTS, CONFIG_KEYS, type Config, loadConfig } from '../src/config.ts';
import { ERROR_CATALOGUE } from '../src/domain/errors.ts';
import { startHookyard } from '../src/main.ts';

export function configurationMarkdown(): string {
  const rows = Object.entries(CONFIG_KEYS).map(([key, spec]) => {
    const def = CONFIG_DEFAULTS[key as keyof Config];
    return `| \`${key}\` | \`${spec.env}\` | \`${spec.flag}\` | ${def === '' ? '(empty)' : `\`${def}\``} | ${spec.doc} |`;
  });
  return `# Configuration

Generated from \`src/config.ts\` by \`npm run docs\`; do not edit by hand.

Settings are layered: defaults, then a JSON config file (\`--config FILE\` or \`HOOKYARD_CONFIG\`,
keys as in the first column), then \`HOOKYARD_*\` environment variables, then flags of
\`hookyard start\`. They are validated at start; an invalid value stops start-up with a message
naming the setting and what is allowed.

| key | env | flag | default | meaning |
| --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
}

export function errorsMarkdown(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(
    ([code, e]) => `| \`${code}\` | ${e.status} | ${e.title} |`,
  );
  return `# Errors

Generated from \`src/domain/errors.ts\` by \`npm run docs\`; do not edit by hand.

Every error the API answers with is JSON \`{ "code": "…", "detail": "…" }\`. The code is stable
and listed here; the detail says what was wrong and what is allowed, and may change wording.

| code | HTTP status | meaning |
| --- | --- | --- |
${rows.join('\n')}
`;
}

export async function openApiJson(): Promise<string> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hy-docs-'));
  const config = loadConfig({
    env: {},
    flags: {
      port: '0',
      dataDir,
      masterKey: randomBytes(32).toString('base64'),
      adminKey: 'docs',
      logLevel: 'silent',
    },
  });
  const hy = await startHookyard(config, { logger: pino({ level: 'silent' }) });
  try {
    return `${JSON.stringify(hy.app.swagger(), null, 2)}\n`;
  } finally {
    await hy.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const DOCS_DIR = path.resolve(import.meta.dirname, '..', 'docs');

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  writeFileSync(path.join(DOCS_DIR, 'configuration.md'), configurationMarkdown());
  writeFileSync(path.join(DOCS_DIR, 'errors.md'), errorsMarkdown());
  writeFileSync(path.join(DOCS_DIR, 'openapi.json'), await openApiJson());
  process.stdout.write('wrote docs/configuration.md, docs/errors.md, docs/openapi.json\n');
}
