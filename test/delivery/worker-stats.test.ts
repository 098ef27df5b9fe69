import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STORE_KINDS } from '../helpers/stores.ts';
import { startReceiver, type TestReceiver } from './receiver.ts';
import { startWorkerHarness, type WorkerHarness } from './worker-harness.ts';

// The worker's counters of where its deliveries came from (docs/benchmarks.md reads them): a
// delivery published while the worker is not running is claimed later; one published while it
// runs and has room is handed over by the publisher, without a claim.
for (const kind of STORE_KINDS) {
  describe(`delivery worker stats (${kind})`, () => {
    let h: WorkerHarness;
    let r: TestReceiver;
    before(async () => {
      h = await startWorkerHarness(kind, { start: false });
      r = await startReceiver();
    });
    after(async () => {
      await h.cleanup();
      await r.close();
    });

    it('count claimed and handed-over deliveries apart', async () => {
      const projectId = await h.newProject();
      await h.endpoints.create(projectId, { url: `${r.url}/hook` });

      await h.publisher.publish({ projectId, eventType: 'a.b', payload: { n: 1 } });
      await h.worker.start();
      await h.worker.drain();
      await r.waitFor(1);
      assert.deepEqual(
        (({ claimed, handedOff, attempts }) => ({ claimed, handedOff, attempts }))(h.worker.stats()),
        { claimed: 1, handedOff: 0, attempts: 1 },
        'published before the worker ran: claimed',
      );

      await h.publisher.publish({ projectId, eventType: 'a.b', payload: { n: 2 } });
      await h.worker.drain();
      await r.waitFor(2);
      assert.deepEqual(
        (({ claimed, handedOff, attempts }) => ({ claimed, handedOff, attempts }))(h.worker.stats()),
        { claimed: 1, handedOff: 1, attempts: 2 },
        'published while it ran: handed over',
      );
    });
  });
}
