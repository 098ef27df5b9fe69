import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Clock } from '../../src/domain/clock.ts';
import { type Component, type Hookyard, startHookyard } from '../../src/main.ts';
import { openTestStore, type StoreKind } from './stores.ts';

export interface TestHookyard {
  hy: Hookyard;
  url: string;
  adminKey: string;
  config: Config;
  /** Sends a JSON request with a bearer key; returns status and parsed body. */
  api(
    method: string,
    path: string,
    options?: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  cleanup(): Promise<void>;
}

/** A real Hookyard on a loopback port, on a fresh SQLite file or PostgreSQL database. */
export async function startTestHookyard(
  kind: StoreKind,
  overrides: Record<string, string> = {},
  options: { clock?: Clock; components?: Component[]; logger?: Logger } = {},
): Promise<TestHookyard> {
  const t = await openTestStore(kind);
  await t.store.close();
  const adminKey = `hya_test_${randomBytes(8).toString('hex')}`;
  const config = loadConfig({
    env: {},
    flags: {
      port: '0',
      host: '127.0.0.1',
      dataDir: t.dataDir,
      databaseUrl: t.databaseUrl,
      adminKey,
      masterKey: randomBytes(32).toString('base64'),
      logLevel: 'silent',
      egressAllow: '127.0.0.1/32',
      shutdownTimeoutMs: '3000',
      ...overrides,
    },
  });
  const hy = await startHookyard(config, { logger: pino({ level: 'silent' }), ...options });
  return wrapTestHookyard(hy, config, adminKey, t.cleanup);
}

/** The test handle of a started Hookyard (another process on the same data shares `cleanup`). */
export function wrapTestHookyard(
  hy: Hookyard,
  config: Config,
  adminKey: string,
  cleanupData: () => Promise<void>,
): TestHookyard {
  return {
    hy,
    url: hy.url,
    adminKey,
    config,
    async api(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const key = opts.key === undefined ? adminKey : opts.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body: string | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) body = JSON.stringify(opts.body);
      if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const res = await fetch(`${hy.url}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async cleanup() {
      await hy.close();
      await cleanupData();
    },
  };
}
