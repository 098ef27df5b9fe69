import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configurationMarkdown, DOCS_DIR, errorsMarkdown, openApiJson } from '../scripts/write-docs.ts';

// The committed docs are generated from code; this fails when someone changes one without the other.
describe('generated docs are current (run `npm run docs` to refresh)', () => {
  it('docs/configuration.md', () => {
    assert.equal(readFileSync(path.join(DOCS_DIR, 'configuration.md'), 'utf8'), configurationMarkdown());
  });
  it('docs/errors.md', () => {
    assert.equal(readFileSync(path.join(DOCS_DIR, 'errors.md'), 'utf8'), errorsMarkdown());
  });
  it('docs/openapi.json', async () => {
    assert.equal(readFileSync(path.join(DOCS_DIR, 'openapi.json'), 'utf8'), await openApiJson());
  });
});
