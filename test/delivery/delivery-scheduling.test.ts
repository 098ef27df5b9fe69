import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPublisher } from '../../src/delivery/publisher.ts';
import type { ProjectId } from '../../src/domain/ids.ts';
import { openStore } from '../../src/store/open-store.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { assertRateLimited, type Received, startReceiver, type TestReceiver } from './receiver.ts';
import { startWorkerHarness, type WorkerHarness } from './worker-harness.ts';

const payloadOf = (r: Received) => (JSON.parse(r.body) as { payload: { key?: string; i: number } }).payload;

for (const kind of STORE_KINDS) {
  describe(`delivery scheduling (${kind})`, () => {
    let h: WorkerHarness;
    const receivers: TestReceiver[] = [];
    before(async () => {
      h = await startWorkerHarness(kind, {
        // Fast endpoints are those answering within 25 ms: test files run in parallel, and a
        // loopback answer can take several ms on a busy machine (the default is 2 ms).
        worker: { concurrency: 16, defaultEndpointConcurrency: 4, batchSize: 50, fastAttemptMs: 25 },
      });
    });
    after(async () => {
      for (const r of receivers) await r.close();
      await h.cleanup();
    });

    async function receiver(onRequest?: (r: Received) => void): Promise<TestReceiver> {
      const r = await startReceiver(onRequest);
      receivers.push(r);
      return r;
    }

    async function publishMany(projectId: ProjectId, count: number, extra: Record<string, unknown> = {}) {
      return Promise.all(
        Array.from({ length: count }, (_, i) =>
          h.publisher.publish({ projectId, eventType: 'load.test', payload: { i }, ...extra }),
        ),
      );
    }

    it('delivers immediately after a publish, without waiting for the poll', async () => {
      const r = await receiver();
      const project = await h.newProject();
      await h.endpoints.create(project, { url: r.url });
      const t0 = performance.now();
      await h.publisher.publish({ projectId: project, eventType: 'a.b', payload: 1 });
      const [got] = await r.waitFor(1, 5000);
      // The poll is 60 s here; only the wake-up can explain a fast delivery.
      assert.ok((got?.atMs ?? Infinity) - t0 < 1000, `took ${(got?.atMs ?? 0) - t0} ms`);
    });

    it('never has more than maxConcurrency requests in flight to an endpoint', async () => {
      const r = await receiver();
      r.setDefault({ status: 200, delayMs: 60 });
      const project = await h.newProject();
      await h.endpoints.create(project, { url: r.url, maxConcurrency: 3 });
      const t0 = performance.now();
      await publishMany(project, 12);
      await r.waitFor(12);
      await h.worker.drain();
      assert.equal(r.concurrent().max, 3);
      assert.ok(performance.now() - t0 >= 4 * 60 - 5, 'four rounds of three');
    });

    it('holds an endpoint to its rate limit', async () => {
      const r = await receiver();
      const project = await h.newProject();
      await h.endpoints.create(project, { url: r.url, rateLimitPerSecond: 10, maxConcurrency: 50 });
      await publishMany(project, 30);
      // A bucket of 10 (one second of rate) goes at once; the other 20 come at 10/s.
      assertRateLimited(await r.waitFor(30, 10_000), 10);
      await h.worker.drain();
    });

    it("deepens a fast endpoint's waiting list when it runs dry, and not a slow one's", async () => {
      // With this harness (16 slots, 4 per endpoint, claims of 50) a lane's base waiting list is
      // 6 deliveries and the deepest 18 (three quarters of a project's 25). Sampled every
      // millisecond while a backlog drains: the deepest lane limit, and what actually waited.
      const whileDraining = async (url: string, count: number) => {
        const project = await h.newProject();
        await h.endpoints.create(project, { url });
        let depth = 0;
        let queued = 0;
        const sampler = setInterval(() => {
          const stats = h.worker.stats();
          depth = Math.max(depth, stats.deepestLane);
          queued = Math.max(queued, stats.queued);
        }, 1);
        try {
          await publishMany(project, count);
          await h.worker.drain();
        } finally {
          clearInterval(sampler);
        }
        return { depth, queued };
      };
      const fast = await receiver();
      const slow = await receiver();
      slow.setDefault({ status: 200, delayMs: 60 });
      const fastRun = await whileDraining(fast.url, 1500);
      assert.equal((await fast.waitFor(1500, 30_000)).length, 1500);
      assert.ok(fastRun.depth > 6, `a fast lane kept its base depth (${fastRun.depth})`);
      assert.ok(
        fastRun.depth <= 18,
        `a lane went deeper (${fastRun.depth}) than three quarters of its project's share`,
      );
      assert.ok(
        fastRun.queued <= 18 + 4,
        `${fastRun.queued} waited, more than the deepest lane and its free slots`,
      );
      const slowRun = await whileDraining(slow.url, 60);
      assert.equal(slowRun.depth, 6, 'a slow lane keeps its base depth');
    });

    it('does not let a slow endpoint starve the other endpoints of its project', async () => {
      // Starving would mean the fast endpoint's deliveries wait for the slow one's attempts to time
      // out and free slots. So the check is an order of events, not a wall-clock bound (which a busy
      // machine would break): all 20 fast deliveries arrive while the slow endpoint still holds
      // its first 4 hanging attempts, none of which has timed out and been replaced yet.
      const slow = await receiver();
      slow.setDefault({ hang: true });
      const fast = await receiver();
      try {
        const project = await h.newProject();
        await h.endpoints.create(project, { url: slow.url, eventTypes: ['slow.*'], timeoutMs: 20_000 });
        await h.endpoints.create(project, { url: fast.url, eventTypes: ['fast.*'] });
        await Promise.all(
          Array.from({ length: 150 }, (_, i) =>
            h.publisher.publish({ projectId: project, eventType: 'slow.x', payload: { i } }),
          ),
        );
        await slow.waitFor(4);
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            h.publisher.publish({ projectId: project, eventType: 'fast.x', payload: { i } }),
          ),
        );
        await fast.waitFor(20, 15_000);
        assert.equal(slow.received.length, 4, 'the fast endpoint went before any slow attempt ended');
        assert.equal(slow.concurrent().max, 4, 'the slow endpoint holds only its own slots');
      } finally {
        slow.setDefault({ status: 200 });
        await slow.close();
        await fast.close();
      }
    });

    it('does not let a project with many slow endpoints starve another project', async () => {
      // As above, an order of events rather than a wall-clock bound: the quiet project's 20
      // deliveries all arrive while the noisy project's 8 hanging attempts are still open.
      const slow = await receiver();
      slow.setDefault({ hang: true });
      const fast = await receiver();
      try {
        const noisy = await h.newProject();
        const quiet = await h.newProject();
        for (let i = 0; i < 4; i++)
          await h.endpoints.create(noisy, { url: `${slow.url}/${i}`, timeoutMs: 20_000 });
        await h.endpoints.create(quiet, { url: fast.url });
        await publishMany(noisy, 60);
        // 4 endpoints × 4 slots would be all 16 of the process's; the project gets half.
        await slow.waitFor(8);
        await publishMany(quiet, 20);
        await fast.waitFor(20, 15_000);
        assert.equal(slow.received.length, 8, 'the quiet project went before any noisy attempt ended');
        assert.equal(slow.concurrent().max, 8);
      } finally {
        slow.setDefault({ status: 200 });
        await slow.close();
        await fast.close();
      }
    });

    it('delivers messages with one ordering key one at a time, in publish order', async () => {
      const keyed: Array<{ i: number; atMs: number }> = [];
      const r = await receiver((got) => {
        const p = payloadOf(got);
        if (p.key === 'k') keyed.push({ i: p.i, atMs: got.atMs });
      });
      r.setDefault({ status: 200, delayMs: 20 });
      let failedFirst = false;
      r.decide((got) => {
        const p = payloadOf(got);
        if (p.key !== 'k' || p.i !== 0 || failedFirst) return undefined;
        failedFirst = true;
        return { status: 500, delayMs: 20 };
      });
      const project = await h.newProject();
      await h.endpoints.create(project, { url: r.url, maxConcurrency: 8 });
      for (let i = 0; i < 10; i++) {
        await h.publisher.publish({
          projectId: project,
          eventType: 'a.b',
          payload: { key: 'k', i },
          orderingKey: 'k',
        });
      }
      await publishMany(project, 10);
      await r.waitFor(21);
      await h.worker.drain();
      // The first one failed and was retried before anything after it went.
      assert.deepEqual(
        keyed.map((k) => k.i),
        [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      for (let n = 1; n < keyed.length; n++) {
        const gap = (keyed[n]?.atMs ?? 0) - (keyed[n - 1]?.atMs ?? 0);
        assert.ok(gap >= 19, `request ${n} came ${gap} ms after the previous one was sent (it takes 20 ms)`);
      }
      // Unordered messages to the same endpoint went in parallel.
      assert.ok(r.concurrent().max > 1);
    });

    it("narrows the operator's egress allow list per project", async () => {
      const r = await receiver();
      const project = await h.newProject();
      await h.store.putDeliverySettings({
        projectId: project,
        retryDelaysMs: [],
        egressAllow: ['10.0.0.0/8'],
        updatedAtMs: 1,
      });
      await h.endpoints.create(project, { url: r.url });
      const published = await h.publisher.publish({ projectId: project, eventType: 'a.b', payload: 1 });
      await h.worker.drain();
      const [d] = await h.store.listMessageDeliveries(project, published.id);
      assert.equal(d?.status, 'failed');
      assert.equal(d?.attempts[0]?.errorKind, 'egress_blocked');
      assert.match(d?.attempts[0]?.errorMessage ?? '', /127\.0\.0\.1.*blocked/);
      assert.equal(r.received.length, 0);
    });

    it('finishes in-flight attempts on stop and records them', async () => {
      const r = await receiver();
      r.setDefault({ status: 200, delayMs: 300 });
      const own = await startWorkerHarness(kind);
      try {
        const project = await own.newProject();
        await own.endpoints.create(project, { url: r.url });
        const published = await own.publisher.publish({ projectId: project, eventType: 'a.b', payload: 1 });
        await r.waitFor(1);
        await own.worker.stop();
        const [d] = await own.store.listMessageDeliveries(project, published.id);
        assert.equal(d?.status, 'succeeded');
        assert.equal(d?.attempts.length, 1);
        assert.ok((d?.attempts[0]?.durationMs ?? 0) >= 250);
      } finally {
        await own.cleanup();
      }
    });

    if (kind === 'postgres') {
      it('wakes a worker in another process at once through LISTEN/NOTIFY', async () => {
        const r = await receiver();
        const project = await h.newProject();
        await h.endpoints.create(project, { url: r.url });
        // A second connection pool stands in for another process that only publishes.
        const other = openStore({ databaseUrl: h.t.databaseUrl, dataDir: h.t.dataDir, poolSize: 2 });
        try {
          const publisher = createPublisher({ store: other, clock: h.clock });
          const t0 = performance.now();
          await publisher.publish({ projectId: project, eventType: 'a.b', payload: 1 });
          const [got] = await r.waitFor(1, 5000);
          assert.ok((got?.atMs ?? Infinity) - t0 < 1000, `took ${(got?.atMs ?? 0) - t0} ms with a 60 s poll`);
          await publisher.close();
        } finally {
          await other.close();
        }
      });
    }
  });
}
