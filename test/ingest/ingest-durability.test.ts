import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Pool } from 'undici';
import { spawnHookyard } from '../helpers/process.ts';
import { createTestDatabase, STORE_KINDS } from '../helpers/stores.ts';

/**
 * Nothing acknowledged is lost: a load generator sends distinct deliveries while the server is
 * killed with SIGKILL (no shutdown code runs); after a restart every delivery that got a 2xx is in
 * the store. Bounded: at most 20,000 requests or 10 s of load per store.
 */
for (const kind of STORE_KINDS) {
  describe(`ingest durability under SIGKILL (${kind})`, () => {
    it('keeps every acknowledged delivery', async () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hy-kill-'));
      const db = kind === 'postgres' ? await createTestDatabase() : null;
      const adminKey = `hya_kill_${randomBytes(6).toString('hex')}`;
      const env: Record<string, string> = {
        HOOKYARD_ADMIN_KEY: adminKey,
        HOOKYARD_LOG_LEVEL: 'error',
        HOOKYARD_DATA_DIR: dataDir,
        HOOKYARD_PORT: '0',
        ...(db ? { HOOKYARD_DATABASE_URL: db.url } : {}),
      };
      try {
        const first = spawnHookyard(['start'], env);
        const [, url] = await first.waitFor(/listening on (http:\/\/\S+)/);
        const api = async (method: string, p: string, body?: unknown, base = url) => {
          const r = await fetch(`${base}${p}`, {
            method,
            headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return (await r.json()) as any;
        };
        const project = await api('POST', '/api/v1/projects', { name: 'kill' });
        const source = await api('POST', `/api/v1/projects/${project.id}/sources`, {
          verification: { type: 'none' },
          dedupe: { header: 'x-delivery-id' },
        });

        const pool = new Pool(url!, { connections: 32 });
        const acknowledged: string[] = [];
        let sent = 0;
        let killed = false;
        const deadline = Date.now() + 10_000;
        const workers = Array.from({ length: 32 }, async (_, w) => {
          for (let i = 0; sent < 20_000 && Date.now() < deadline; i++) {
            const id = `w${w}-${i}`;
            sent++;
            try {
              const res = await pool.request({
                path: `/in/${source.id}`,
                method: 'POST',
                headers: { 'x-delivery-id': id, 'content-type': 'application/json' },
                body: JSON.stringify({ id, payload: 'x'.repeat(200) }),
              });
              await res.body.text();
              if (res.statusCode >= 200 && res.statusCode < 300) acknowledged.push(id);
            } catch {
              if (killed) return; // the server is gone; this request was never acknowledged
            }
          }
        });
        // Let the load run, then kill the server mid-stream.
        while (acknowledged.length < 500 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 10));
        killed = true;
        first.child.kill('SIGKILL');
        await first.exited;
        await Promise.all(workers);
        await pool.close();
        assert.ok(
          acknowledged.length >= 500,
          `load reached the server (${acknowledged.length} acknowledged)`,
        );

        const second = spawnHookyard(['start'], env);
        const [, url2] = await second.waitFor(/listening on (http:\/\/\S+)/);
        const stored = new Set<string>();
        let after: string | null = null;
        do {
          const page = await api(
            'GET',
            `/api/v1/projects/${project.id}/events?sourceId=${source.id}&limit=500${after ? `&after=${after}` : ''}`,
            undefined,
            url2,
          );
          for (const e of page.items) stored.add(e.providerEventId);
          after = page.nextCursor;
        } while (after);
        const missing = acknowledged.filter((id) => !stored.has(id));
        assert.deepEqual(
          missing,
          [],
          `${missing.length} of ${acknowledged.length} acknowledged deliveries were lost`,
        );
        second.child.kill('SIGTERM');
        assert.equal((await second.exited).code, 0);
      } finally {
        await db?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}
