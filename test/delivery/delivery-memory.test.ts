import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { STORE_KINDS } from '../helpers/stores.ts';
import { startReceiver, type TestReceiver } from './receiver.ts';
import { startWorkerHarness, type WorkerHarness } from './worker-harness.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
const PENDING = 10_000;
// Each delivery's body is ~1 KiB; keeping anything per delivery (its claim, its body, its
// attempt) would grow the retained heap by at least 10 MB, well past these bounds.
const RETAINED_GROWTH_LIMIT = 6 * MB;
const RETAINED_DURING_LIMIT = 24 * MB;
const RSS_GROWTH_LIMIT = 96 * MB;

function retainedHeap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function publishBacklog(
  h: WorkerHarness,
  projectId: Parameters<WorkerHarness['publisher']['publish']>[0]['projectId'],
  count: number,
) {
  const filler = 'x'.repeat(900);
  for (let start = 0; start < count; start += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, count - start) }, (_, i) =>
        h.publisher.publish({ projectId, eventType: 'load.test', payload: { i: start + i, filler } }),
      ),
    );
  }
}

for (const kind of STORE_KINDS) {
  describe(`draining a backlog (${kind})`, () => {
    let h: WorkerHarness;
    let receiver: TestReceiver;
    before(async () => {
      receiver = await startReceiver();
      h = await startWorkerHarness(kind, { start: false });
    });
    after(async () => {
      await h.cleanup();
      await receiver.close();
    });

    it(`drains ${PENDING} pending deliveries with flat memory`, async () => {
      // Keep the receiver's own bookkeeping out of the measurement.
      receiver.received.length = 0;
      const project = await h.newProject();
      await h.endpoints.create(project, { url: receiver.url, maxConcurrency: 32 });

      // Warm up (JIT, pools, caches) on another worker, then let everything settle.
      await publishBacklog(h, project, 1000);
      const warm = await h.startWorker();
      await warm.drain();
      await warm.stop();
      let got = 0;
      const counter = setInterval(() => {
        got += receiver.received.length;
        receiver.received.length = 0;
      }, 20);

      await publishBacklog(h, project, PENDING);
      const pending = await h.store.claimDueDeliveries({ limit: 1, nowMs: 0, leaseMs: 0 });
      assert.deepEqual(pending, [], 'nothing was due before the clock');
      const baseHeap = retainedHeap();
      const baseRss = process.memoryUsage().rss;

      let maxRetainedDuring = 0;
      let maxRss = 0;
      const sampler = setInterval(() => {
        maxRetainedDuring = Math.max(maxRetainedDuring, retainedHeap());
        maxRss = Math.max(maxRss, process.memoryUsage().rss);
      }, 100);
      const t0 = performance.now();
      await h.worker.start();
      await h.worker.drain();
      const tookMs = performance.now() - t0;
      clearInterval(sampler);
      clearInterval(counter);
      got += receiver.received.length;
      receiver.received.length = 0;

      assert.equal(got, 1000 + PENDING, 'every delivery arrived exactly once');
      const left = await h.store.claimDueDeliveries({ limit: 10, nowMs: h.clock.nowMs() + 1e9, leaseMs: 0 });
      assert.deepEqual(left, [], 'nothing is left pending');
      const finalHeap = retainedHeap();
      const report = {
        deliveries: PENDING,
        tookMs: Math.round(tookMs),
        retainedGrowthMb: ((finalHeap - baseHeap) / MB).toFixed(2),
        maxRetainedDuringMb: ((maxRetainedDuring - baseHeap) / MB).toFixed(2),
        maxRssGrowthMb: ((maxRss - baseRss) / MB).toFixed(2),
      };
      assert.ok(
        finalHeap - baseHeap < RETAINED_GROWTH_LIMIT,
        `retained heap grew: ${JSON.stringify(report)}`,
      );
      assert.ok(
        maxRetainedDuring - baseHeap < RETAINED_DURING_LIMIT,
        `heap during the drain: ${JSON.stringify(report)}`,
      );
      assert.ok(maxRss - baseRss < RSS_GROWTH_LIMIT, `RSS during the drain: ${JSON.stringify(report)}`);
      process.stdout.write(`# ${kind} backlog drain: ${JSON.stringify(report)}\n`);
    });
  });
}
