import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { newId, type ProjectId, type SourceId } from '../../src/domain/ids.ts';
import { createSqlStore } from '../../src/store/sql/sql-store.ts';
import { SqliteDb } from '../../src/store/sqlite/sqlite-db.ts';
import { sqliteDialect } from '../../src/store/sqlite/sqlite-dialect.ts';
import { EVENT_LOOP_HOLDER, WRITER_THREAD_HOLDER, WriteLock } from '../../src/store/sqlite/write-lock.ts';
import type { Store } from '../../src/store/store.ts';
import { seedProject, seedSource, testInboundEvent } from '../helpers/stores.ts';

describe('cross-thread SQLite write lock', () => {
  it('makes the event loop wait, without blocking it, while another thread holds the lock', async () => {
    const lock = new WriteLock();
    // Another thread takes the lock and holds it for 150 ms (a blocking sleep on that thread).
    const holder = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const cell = new Int32Array(workerData);
       Atomics.compareExchange(cell, 0, 0, ${WRITER_THREAD_HOLDER});
       parentPort.postMessage('held');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);
       Atomics.store(cell, 0, 0);
       Atomics.notify(cell, 0);`,
      { eval: true, workerData: lock.buffer },
    );
    await new Promise((resolve) => holder.once('message', resolve));
    assert.equal(lock.tryAcquire(EVENT_LOOP_HOLDER), false);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const started = Date.now();
    await lock.acquire(EVENT_LOOP_HOLDER);
    clearInterval(ticker);
    assert.ok(Date.now() - started >= 100, 'waited for the holder');
    assert.ok(ticks >= 5, `the event loop kept running while waiting (${ticks} ticks)`);
    // Only the holder releases it.
    lock.release(WRITER_THREAD_HOLDER);
    assert.equal(lock.tryAcquire(WRITER_THREAD_HOLDER), false);
    lock.release(EVENT_LOOP_HOLDER);
    assert.equal(lock.acquireSync(WRITER_THREAD_HOLDER, 10), true);
    assert.equal(lock.acquireSync(EVENT_LOOP_HOLDER, 20), false, 'times out while held');
    lock.release(WRITER_THREAD_HOLDER);
    await holder.terminate();
  });
});

const event = testInboundEvent;

describe('SQLite writer thread', () => {
  let dir: string;
  let db: SqliteDb;
  let store: Store;
  let projectId: ProjectId;
  let sourceId: SourceId;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hy-writer-'));
    db = new SqliteDb(path.join(dir, 'hookyard.db'), { writerThread: true });
    store = createSqlStore(db, sqliteDialect);
    await store.migrate();
    projectId = await seedProject(store);
    sourceId = await seedSource(store, projectId);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes batches beside event-loop transactions without SQLITE_BUSY, losing nothing', async () => {
    // No busy handler on the event loop's connection: a write that met the writer thread's
    // transaction in SQLite (instead of waiting on the shared lock) would fail at once.
    await db.run('PRAGMA busy_timeout = 0');
    const batches: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) {
      batches.push(
        store.insertInboundEvents(
          Array.from({ length: 25 }, (_, j) => event(projectId, sourceId, `k${i}-${j}`)),
        ),
      );
    }
    let writing = true;
    const all = Promise.all(batches).finally(() => {
      writing = false;
    });
    // Writes on the event loop's connection all the while (as the API and router make them).
    let tenants = 0;
    while (writing) {
      await store.upsertTenant({
        id: newId('tenant'),
        projectId,
        sourceId,
        providerAccountId: `acct-${tenants++}`,
        userId: null,
        createdAtMs: 1,
      });
    }
    await all;
    const counted = await db.get<{ n: number }>('SELECT count(*) AS n FROM inbound_events');
    assert.equal(counted?.n, 1000);
    const storedTenants = await db.get<{ n: number }>('SELECT count(*) AS n FROM tenants');
    assert.equal(storedTenants?.n, tenants);
    assert.ok(tenants > 1, 'the event loop wrote while the batches were being written');
    // Dedupe still holds on the writer's connection.
    const again = await store.insertInboundEvents([event(projectId, sourceId, 'k0-0')]);
    assert.equal(again[0]?.duplicate, true);
  });

  it('moves bodies that own their memory to the thread when the caller allows it, and stores every byte', async () => {
    const owned = Buffer.from(new Uint8Array(Buffer.from('{"owned":"body"}')).buffer);
    const pool = Buffer.from('xx{"a slice":"of shared memory"}yy');
    const slice = pool.subarray(2, pool.length - 2);
    const kept = Buffer.from('{"not":"moved"}');
    const a = event(projectId, sourceId, 'move-owned', { body: owned });
    const b = event(projectId, sourceId, 'move-slice', { body: slice });
    const c = event(projectId, sourceId, 'move-not-asked', { body: kept });
    const ownedBytes = Buffer.from(owned);
    const keptBytes = Buffer.from(kept);
    await store.insertInboundEvents([a, b], { bodiesMayMove: true });
    await store.insertInboundEvents([c]);
    assert.equal(owned.length, 0, 'an owned body moved to the writer thread (detached here)');
    assert.equal(slice.toString(), '{"a slice":"of shared memory"}', 'a shared body was copied');
    assert.equal(pool.toString(), 'xx{"a slice":"of shared memory"}yy', 'the memory it shares is untouched');
    assert.deepEqual(kept, keptBytes, 'without bodiesMayMove nothing moves');
    assert.deepEqual((await store.getInboundEvent(projectId, a.id))?.body, ownedBytes);
    assert.equal(
      (await store.getInboundEvent(projectId, b.id))?.body.toString(),
      '{"a slice":"of shared memory"}',
    );
    assert.deepEqual((await store.getInboundEvent(projectId, c.id))?.body, keptBytes);
  });

  it('rejects a job whose input cannot reach the thread, and goes on with the next', async () => {
    type Writer = { run(job: string, input: unknown): Promise<unknown>; waiting: Map<number, unknown> };
    const writer = (db as unknown as { writer: Writer }).writer;
    await assert.rejects(writer.run('insertInboundEvents', [[() => 'not cloneable']]), /could not be cloned/);
    assert.equal(writer.waiting.size, 0, 'nothing is left waiting for an answer that cannot come');
    const next = await store.insertInboundEvents([event(projectId, sourceId, 'after-uncloneable')]);
    assert.equal(next[0]?.duplicate, false);
  });

  it('fails waiting jobs as unavailable when the thread dies, then starts a new one', async () => {
    const writer = (db as unknown as { writer: { worker: Worker | null } }).writer;
    await store.insertInboundEvents([event(projectId, sourceId, 'before-crash')]);
    // Hold the write lock, so the next job is certainly still running (waiting for the lock on
    // the thread) when the thread dies; otherwise a quick job can finish first.
    const lock = (db as unknown as { writeLock: WriteLock }).writeLock;
    await lock.acquire(EVENT_LOOP_HOLDER);
    const pending = store.insertInboundEvents([event(projectId, sourceId, 'during-crash')]);
    await new Promise((r) => setTimeout(r, 50));
    await writer.worker?.terminate();
    lock.release(EVENT_LOOP_HOLDER);
    await assert.rejects(pending, StoreUnavailableError);
    await assert.rejects(
      store.insertInboundEvents([event(projectId, sourceId, 'too-soon')]),
      /restarting/,
      'a dead thread is not restarted in a tight loop',
    );
    await new Promise((r) => setTimeout(r, 1100));
    const after = await store.insertInboundEvents([event(projectId, sourceId, 'after-restart')]);
    assert.equal(after[0]?.duplicate, false);
    // The crashed thread's lock was taken back: the event loop's connection can still write.
    await store.upsertTenant({
      id: newId('tenant'),
      projectId,
      sourceId,
      providerAccountId: 'after-crash',
      userId: null,
      createdAtMs: 1,
    });
  });
});
