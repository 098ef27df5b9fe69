import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type EndpointId, newId, type ProjectId, type SourceId } from '../../src/domain/ids.ts';
import {
  type AttemptRecord,
  type ClaimedDelivery,
  type EndpointHealthRecord,
  type EndpointRecord,
  NEW_ENDPOINT_HEALTH,
  type NewMessage,
} from '../../src/store/delivery-store.ts';
import type { NewInboundEvent } from '../../src/store/inbound-store.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';

export type StoreKind = 'sqlite' | 'postgres';
export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'postgres'];
/** Both stores, and SQLite a second time with its hot-path batches on the writer thread. */
export const STORE_VARIANTS: ReadonlyArray<{ kind: StoreKind; sqliteWriterThread: boolean; name: string }> = [
  ...STORE_KINDS.map((kind) => ({ kind, sqliteWriterThread: false, name: kind })),
  { kind: 'sqlite', sqliteWriterThread: true, name: 'sqlite, writer thread' },
];

/** The PostgreSQL the test runner started (or the developer's own, via HOOKYARD_TEST_DATABASE_URL). */
export function testDatabaseUrl(): string {
  const url = process.env.HOOKYARD_TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'HOOKYARD_TEST_DATABASE_URL is not set: run tests through `npm test` (it starts PostgreSQL)',
    );
  }
  return url;
}

/** Creates an empty database on the test server and returns its URL. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = testDatabaseUrl();
  const name = `hy_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestStore {
  store: Store;
  /** What to pass as databaseUrl/dataDir to build another process or store on the same data. */
  databaseUrl: string;
  dataDir: string;
  cleanup: () => Promise<void>;
}

/** A fresh, migrated store of the given kind: a new SQLite file, or a new PostgreSQL database. */
export async function openTestStore(
  kind: StoreKind,
  options: { sqliteWriterThread?: boolean } = {},
): Promise<TestStore> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hookyard-test-'));
  let databaseUrl = '';
  let drop = async () => {};
  if (kind === 'postgres') {
    const db = await createTestDatabase();
    databaseUrl = db.url;
    drop = db.drop;
  }
  const store = openStore({ databaseUrl, dataDir, poolSize: 5, ...options });
  await store.migrate();
  return {
    store,
    databaseUrl,
    dataDir,
    async cleanup() {
      await store.close().catch(() => {});
      await drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A bare project row for store-level tests (no keys, placeholder signing key). */
export async function seedProject(store: Store): Promise<ProjectId> {
  const id = newId('project');
  await store.insertProject({
    id,
    name: 'p',
    signingPublicKey: 'k',
    signingPrivateKeySealed: 's',
    createdAtMs: 1,
  });
  return id;
}

/** A bare source row (no provider, no secrets) for store-level tests. */
export async function seedSource(store: Store, projectId: ProjectId): Promise<SourceId> {
  const id = newId('source');
  await store.insertSource({
    id,
    projectId,
    name: 's',
    provider: null,
    settings: {},
    secretsSealed: null,
    publicKey: null,
    handshakeStateSealed: null,
    createdAtMs: 1,
    updatedAtMs: 1,
  });
  return id;
}

/** An endpoint's health before anything happened to it. */
export const HEALTHY_ENDPOINT: EndpointHealthRecord = { ...NEW_ENDPOINT_HEALTH };

/** An endpoint row for store-level tests (not stored; `extra` overrides any field). */
export function testEndpoint(projectId: ProjectId, extra: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    id: newId('endpoint'),
    projectId,
    userId: null,
    url: 'https://receiver.example/hooks',
    name: 'main',
    description: '',
    eventTypes: ['invoice.*'],
    objectTypes: [],
    headers: { 'x-team': 'a' },
    rateLimitPerSecond: null,
    maxConcurrency: 4,
    timeoutMs: 15_000,
    signatureScheme: 'standard-webhooks',
    signatureHeader: null,
    secretsSealed: 'sealed',
    enabled: true,
    health: HEALTHY_ENDPOINT,
    createdAtMs: 100,
    updatedAtMs: 100,
    ...extra,
  };
}

/** An inbound event for store-level tests: provider event id `key`, a JSON body left to the store to check. */
export function testInboundEvent(
  projectId: ProjectId,
  sourceId: SourceId,
  key: string,
  extra: Partial<NewInboundEvent> = {},
): NewInboundEvent {
  return {
    id: newId('event'),
    projectId,
    sourceId,
    dedupeKey: `id:${key}`,
    providerEventId: key,
    eventType: 'push',
    method: 'POST',
    url: `/in/${sourceId}`,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ key, bytes: 'x'.repeat(500) })),
    jsonValid: 'unchecked',
    verification: { ok: true, detail: 'test' },
    credentialId: null,
    routingKey: null,
    receivedAtMs: 1000,
    decided: { status: 'routed', tenantId: null },
    ...extra,
  };
}

/** A succeeded attempt of a claimed delivery (its next attempt number); `extra` overrides any field. */
export function testAttempt(c: ClaimedDelivery, extra: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    id: newId('attempt'),
    projectId: c.projectId,
    deliveryId: c.id,
    messageId: c.messageId,
    endpointId: c.endpointId,
    attemptNumber: c.attemptCount + 1,
    startedAtMs: 2000,
    durationMs: 12,
    outcome: 'succeeded',
    statusCode: 200,
    errorKind: null,
    errorMessage: null,
    responseHeaders: { 'content-type': 'text/plain' },
    responseBody: 'ok',
    responseBodyTruncated: false,
    nextAttemptAtMs: null,
    ...extra,
  };
}

/** A message with one pending delivery per endpoint id (not stored); `extra` overrides message fields. */
export function testMessage(
  projectId: ProjectId,
  endpointIds: EndpointId[],
  extra: Partial<NewMessage['message']> = {},
  options: { idempotencyNotBeforeMs?: number; status?: 'pending' | 'failed' } = {},
): NewMessage {
  const id = newId('message');
  return {
    message: {
      id,
      projectId,
      eventType: 'invoice.paid',
      objectType: null,
      credentialId: null,
      userId: null,
      orderingKey: null,
      idempotencyKey: null,
      body: JSON.stringify({ webhookId: id, payload: { n: 1 } }),
      createdAtMs: 1000,
      ...extra,
    },
    deliveries: endpointIds.map((endpointId) => ({
      id: newId('delivery'),
      endpointId,
      status: options.status ?? 'pending',
    })),
    ...(options.idempotencyNotBeforeMs !== undefined
      ? { idempotencyNotBeforeMs: options.idempotencyNotBeforeMs }
      : {}),
  };
}
