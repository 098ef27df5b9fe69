import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createDeliveryWorker, type DeliveryWorker } from '../../src/delivery/delivery-worker.ts';
import { createPublisher, type Publisher } from '../../src/delivery/publisher.ts';
import type { ProjectId } from '../../src/domain/ids.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { assertRateLimited, type Received, startReceiver, type TestReceiver } from './receiver.ts';
import { LOOPBACK_ALLOW, startWorkerHarness, type WorkerHarness } from './worker-harness.ts';

const messageIdOf = (r: Received) => String(r.headers['webhook-id']);

/**
 * Two worker processes on one PostgreSQL database, as a deployment scales out: each "process" is
 * its own store (its own connection pool), publisher and worker, so they share nothing but the
 * database. An endpoint's own limits (maxConcurrency, rateLimitPerSecond) must hold across both,
 * not once per process.
 */
describe('endpoint limits across worker processes (postgres)', () => {
  let h: WorkerHarness;
  let second: { store: Store; publisher: Publisher; worker: DeliveryWorker };
  /** The first process's worker (replaced by a new one after the hand-over test stops it). */
  let first: DeliveryWorker;
  const receivers: TestReceiver[] = [];

  before(async () => {
    const worker = { concurrency: 32, batchSize: 50, endpointLeaseMs: 10_000 };
    h = await startWorkerHarness('postgres', { worker });
    first = h.worker;
    const store = openStore({ databaseUrl: h.t.databaseUrl, dataDir: h.t.dataDir, poolSize: 5 });
    const publisher = createPublisher({ store, clock: h.clock });
    second = {
      store,
      publisher,
      worker: createDeliveryWorker(
        { store, clock: h.clock, logger: pino({ level: 'silent' }), secrets: h.secrets, publisher },
        { egressAllow: LOOPBACK_ALLOW, random: () => 0.5, pollIntervalMs: 60_000, ...worker },
      ),
    };
  });
  after(async () => {
    for (const r of receivers) await r.close();
    await second.worker.stop();
    await second.publisher.close();
    await second.store.close();
    await h.cleanup();
  });

  async function receiver(): Promise<TestReceiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }

  /** Publishes `count` messages, alternating between the two processes, all at once. */
  function publishFromBoth(projectId: ProjectId, count: number) {
    return Promise.all(
      Array.from({ length: count }, (_, i) =>
        (i % 2 === 0 ? h.publisher : second.publisher).publish({
          projectId,
          eventType: 'load.test',
          payload: { i },
        }),
      ),
    );
  }

  function assertEachOnce(got: Received[], count: number): void {
    assert.equal(got.length, count);
    assert.equal(new Set(got.map(messageIdOf)).size, count, 'a message was delivered twice');
  }

  it('sends for a limited endpoint from one process; a stopping holder hands it over at once', async () => {
    const r = await receiver();
    const project = await h.newProject();
    await h.endpoints.create(project, { url: r.url, maxConcurrency: 2 });
    const publishFrom = (p: Publisher, from: number) =>
      Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          p.publish({ projectId: project, eventType: 'load.test', payload: { i: from + i } }),
        ),
      );
    // Only the first process has a worker: it takes the endpoint's lease.
    await publishFrom(h.publisher, 0);
    await r.waitFor(6);
    await h.worker.drain();
    await second.worker.start();
    const before = h.worker.stats().attempts;
    // Published by the second process, sent by the first, which holds the endpoint.
    await publishFrom(second.publisher, 100);
    await r.waitFor(12);
    await h.worker.drain();
    assert.equal(h.worker.stats().attempts - before, 6);
    assert.equal(second.worker.stats().attempts, 0);
    // The holder stops and gives its lease up: the second process sends at once, long before
    // the lease (10 s) would have run out.
    await h.worker.stop();
    const t0 = performance.now();
    await publishFrom(second.publisher, 200);
    assertEachOnce(await r.waitFor(18), 18);
    assert.ok(performance.now() - t0 < 5000, `took over after ${Math.round(performance.now() - t0)} ms`);
    await second.worker.drain();
    assert.equal(second.worker.stats().attempts, 6);
    // The first process gets a worker again for the tests below.
    first = await h.startWorker();
  });

  it('holds maxConcurrency for the whole deployment', async () => {
    const r = await receiver();
    r.setDefault({ status: 200, delayMs: 60 });
    const project = await h.newProject();
    await h.endpoints.create(project, { url: r.url, maxConcurrency: 3 });
    await publishFromBoth(project, 24);
    assertEachOnce(await r.waitFor(24, 15_000), 24);
    await Promise.all([first.drain(), second.worker.drain()]);
    // Each process alone allows 3; with a sender per process the two together sent 6.
    assert.equal(r.concurrent().max, 3);
  });

  it('holds rateLimitPerSecond for the whole deployment', async () => {
    const r = await receiver();
    const project = await h.newProject();
    await h.endpoints.create(project, { url: r.url, rateLimitPerSecond: 10, maxConcurrency: 50 });
    await publishFromBoth(project, 30);
    const got = await r.waitFor(30, 15_000);
    assertEachOnce(got, 30);
    // One bucket of 10 (a second of rate) at once, then 10/s: 30 take about two seconds. Two
    // processes with a bucket each would have sent 20 at once and the rest within the second.
    assertRateLimited(got, 10);
    await second.worker.drain();
  });

  it("sends for a crashed holder's endpoint once its lease has run out", async () => {
    const r = await receiver();
    const project = await h.newProject();
    const { endpoint } = await h.endpoints.create(project, { url: r.url, maxConcurrency: 2 });
    // A process took the lease and died without giving it up.
    assert.deepEqual(await h.store.holdEndpointLeases('w_crashed', [endpoint.id], 1500), [endpoint.id]);
    const t0 = performance.now();
    await publishFromBoth(project, 4);
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(r.received.length, 0, 'sent while another holder had the endpoint');
    // The fallback poll (60 s in this harness; 1 s by default) finds the work once the lease ended.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    first.wake();
    assertEachOnce(await r.waitFor(4), 4);
    assert.ok((r.received[0]?.atMs ?? 0) - t0 >= 1400, 'sent before the lease ran out');
    await Promise.all([first.drain(), second.worker.drain()]);
  });

  it('leaves endpoints without limits of their own to every process', async () => {
    const r = await receiver();
    r.setDefault({ status: 200, delayMs: 20 });
    const project = await h.newProject();
    await h.endpoints.create(project, { url: r.url });
    const before = [first.stats().attempts, second.worker.stats().attempts];
    await publishFromBoth(project, 40);
    assertEachOnce(await r.waitFor(40, 15_000), 40);
    await Promise.all([first.drain(), second.worker.drain()]);
    assert.ok(first.stats().attempts > (before[0] ?? 0), 'the first process sent none');
    assert.ok(second.worker.stats().attempts > (before[1] ?? 0), 'the second process sent none');
  });
});
