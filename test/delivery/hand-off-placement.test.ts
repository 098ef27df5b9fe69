import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STORE_KINDS } from '../helpers/stores.ts';
import { startReceiver, type TestReceiver } from './receiver.ts';
import { startWorkerHarness, type WorkerHarness } from './worker-harness.ts';

// Deliveries a publisher hands over are placed and sent in the same turn as the commit that made
// them, before the publishes resolve: a batch's deliveries do not each wait behind the other
// microtasks of the turn (its publishes' answers among them) on the publish → delivered path.
for (const kind of STORE_KINDS) {
  describe(`hand-off placement (${kind})`, () => {
    let h: WorkerHarness;
    let r: TestReceiver;
    before(async () => {
      h = await startWorkerHarness(kind);
      r = await startReceiver();
    });
    after(async () => {
      await h.cleanup();
      await r.close();
    });

    it("sends a batch's handed-over deliveries before its publishes resolve", async () => {
      const projectId = await h.newProject();
      await h.endpoints.create(projectId, { url: `${r.url}/hook` });
      // A first delivery compiles the endpoint (loading it is the one wait a hand-off may have).
      await h.publisher.publish({ projectId, eventType: 'a.b', payload: { n: 0 } });
      await r.waitFor(1);
      await h.worker.drain();
      const before = h.worker.stats();
      const batch = 12;
      await Promise.all(
        Array.from({ length: batch }, (_, i) =>
          h.publisher.publish({ projectId, eventType: 'a.b', payload: { n: i + 1 } }),
        ),
      );
      const now = h.worker.stats();
      assert.equal(now.handedOff - before.handedOff, batch, 'the batch was handed over');
      assert.equal(now.reserved, 0, 'every reservation became a placed delivery');
      assert.equal(
        now.inFlight + now.attempts - before.attempts,
        batch,
        'every delivery was sent (the endpoint takes 16 at once)',
      );
      await r.waitFor(batch + 1);
      await h.worker.drain();
    });
  });
}
