import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { CONSOLE_NOT_BUILT, createConsoleRoutes } from '../../src/console/console-routes.ts';

describe('console routes without a build', () => {
  let app: FastifyInstance;
  let url: string;
  let empty: string;
  before(async () => {
    empty = mkdtempSync(path.join(os.tmpdir(), 'hookyard-console-'));
    app = Fastify();
    await app.register(createConsoleRoutes(empty));
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app.close();
    rmSync(empty, { recursive: true, force: true });
  });

  for (const route of ['/console', '/console/', '/console/assets/index-abc12345.js']) {
    it(`${route} says how to build the console`, async () => {
      const res = await fetch(`${url}${route}`);
      assert.equal(res.status, 503);
      assert.equal((await res.text()).trim(), CONSOLE_NOT_BUILT);
      assert.match(CONSOLE_NOT_BUILT, /npm run build:console/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    });
  }
});
