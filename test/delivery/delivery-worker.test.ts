import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { FakeClock } from '../../src/domain/clock.ts';
import { createEndpointHealthPolicy } from '../../src/domain/endpoint-health.ts';
import type { EndpointId, MessageId, ProjectId } from '../../src/domain/ids.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { type Received, startReceiver, type TestReceiver } from './receiver.ts';
import { atTime, startWorkerHarness, type WorkerHarness } from './worker-harness.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Verifies a delivery with the official standardwebhooks package, at the time it was signed. */
function verify(secret: string, r: Received): unknown {
  const timestampMs = Number(r.headers['webhook-timestamp']) * 1000;
  return atTime(timestampMs, () => new Webhook(secret).verify(r.body, r.headers as Record<string, string>));
}

for (const kind of STORE_KINDS) {
  describe(`delivery worker with a fake clock (${kind})`, () => {
    let h: WorkerHarness;
    let clock: FakeClock;
    let projectId: ProjectId;
    const receivers: TestReceiver[] = [];
    before(async () => {
      h = await startWorkerHarness(kind, {
        worker: { healthPolicy: createEndpointHealthPolicy({ failingAfterConsecutiveFailures: 5 }) },
      });
      clock = h.clock as FakeClock;
      projectId = await h.newProject();
    });
    after(async () => {
      await h.cleanup();
      for (const r of receivers) await r.close();
    });

    async function receiver(): Promise<TestReceiver> {
      const r = await startReceiver();
      receivers.push(r);
      return r;
    }

    async function deliveriesOf(messageId: MessageId) {
      return h.store.listMessageDeliveries(projectId, messageId);
    }

    it('retries through failure, timeout, 429 with Retry-After, reset and 503, then succeeds once and never again', async () => {
      const r = await receiver();
      r.respond(
        { status: 500, body: 'boom' },
        { hang: true },
        { status: 429, headers: { 'retry-after': '3600' } },
        { reset: true },
        { status: 503, body: 'down' },
      );
      const { endpoint, secret } = await h.endpoints.create(projectId, {
        url: `${r.url}/hook`,
        timeoutMs: 300,
      });
      const t0 = clock.nowMs();
      const published = await h.publisher.publish({
        projectId,
        eventType: 'invoice.paid',
        payload: { n: 1 },
      });
      assert.equal(published.deliveries, 1);

      // Attempt 1 fails with 500; the first retry is immediate; attempt 2 times out; the next waits 5 s.
      await h.worker.drain();
      let [d] = await deliveriesOf(published.id);
      assert.ok(d);
      assert.deepEqual(
        d.attempts.map((a) => [a.attemptNumber, a.outcome, a.statusCode, a.errorKind, a.nextAttemptAtMs]),
        [
          [1, 'failed', 500, null, t0],
          [2, 'failed', null, 'timeout', t0 + 5 * SECOND],
        ],
      );
      assert.equal(d.attempts[0]?.responseBody, 'boom');
      assert.ok((d.attempts[1]?.durationMs ?? 0) >= 250, 'the timeout bounded the attempt');
      assert.equal(d.status, 'pending');
      assert.equal(d.nextAttemptAtMs, t0 + 5 * SECOND);

      // Not due yet: nothing happens.
      clock.advance(4 * SECOND);
      await h.worker.drain();
      assert.equal(r.received.length, 2);

      // Attempt 3: 429 with Retry-After one hour, which outweighs the scheduled 5 minutes.
      clock.advance(1 * SECOND);
      await h.worker.drain();
      [d] = await deliveriesOf(published.id);
      const t3 = t0 + 5 * SECOND;
      assert.deepEqual(
        d?.attempts.slice(2).map((a) => [a.statusCode, a.nextAttemptAtMs]),
        [[429, t3 + HOUR]],
      );
      assert.equal(d?.attempts[2]?.responseHeaders['retry-after'], '3600');

      // Attempt 4: the connection is reset; retry in 30 minutes.
      clock.advance(HOUR);
      await h.worker.drain();
      [d] = await deliveriesOf(published.id);
      const t4 = t3 + HOUR;
      assert.deepEqual(
        d?.attempts.slice(3).map((a) => [a.statusCode, a.errorKind, a.nextAttemptAtMs]),
        [[null, 'connection_reset', t4 + 30 * MINUTE]],
      );
      let health = (await h.store.getEndpoint(projectId, endpoint.id))?.health;
      assert.equal(health?.state, 'active');
      assert.equal(health?.consecutiveFailures, 4);

      // Attempt 5: 503, the fifth failure in a row: the endpoint is now failing. Retry in 2 h.
      clock.advance(30 * MINUTE);
      await h.worker.drain();
      const t5 = t4 + 30 * MINUTE;
      [d] = await deliveriesOf(published.id);
      assert.deepEqual(
        d?.attempts.slice(4).map((a) => [a.statusCode, a.nextAttemptAtMs]),
        [[503, t5 + 2 * HOUR]],
      );
      health = (await h.store.getEndpoint(projectId, endpoint.id))?.health;
      assert.deepEqual(
        [health?.state, health?.reason, health?.changedAtMs, health?.firstFailureAtMs],
        ['failing', 'consecutive_failures', t5, t0],
      );

      // Attempt 6 succeeds; the endpoint recovers.
      clock.advance(2 * HOUR);
      await h.worker.drain();
      [d] = await deliveriesOf(published.id);
      assert.equal(d?.status, 'succeeded');
      assert.equal(d?.attemptCount, 6);
      assert.equal(d?.attempts[5]?.statusCode, 200);
      assert.equal(d?.attempts[5]?.nextAttemptAtMs, null);
      health = (await h.store.getEndpoint(projectId, endpoint.id))?.health;
      assert.deepEqual(
        [health?.state, health?.reason, health?.consecutiveFailures, health?.lastSuccessAtMs],
        ['active', 'recovered', 0, t5 + 2 * HOUR],
      );

      // Nothing is delivered twice after a success, however long we wait.
      for (const step of [MINUTE, HOUR, 10 * HOUR, 7 * 24 * HOUR]) {
        clock.advance(step);
        await h.worker.drain();
      }
      assert.equal(r.received.length, 6);
      [d] = await deliveriesOf(published.id);
      assert.equal(d?.attempts.length, 6);

      // Every request carried the same webhook-id and verifies with the official library.
      for (const got of r.received) {
        assert.equal(got.headers['webhook-id'], published.id);
        assert.equal((verify(secret, got) as { payload: unknown }).payload !== undefined, true);
      }
      // Each retry is signed anew, at its own time.
      assert.deepEqual(
        r.received.map((got) => Number(got.headers['webhook-timestamp']) * 1000),
        [t0, t0, t3, t4, t5, t5 + 2 * HOUR],
      );
    });

    it('fails a delivery after its schedule runs out and disables an endpoint after sustained failure', async () => {
      const r = await receiver();
      r.setDefault({ status: 500 });
      const project = await h.newProject();
      await h.store.putDeliverySettings({
        projectId: project,
        retryDelaysMs: [0, 10 * MINUTE, 10 * MINUTE],
        egressAllow: null,
        updatedAtMs: 1,
      });
      const failing = await h.endpoints.create(project, { url: r.url });
      const watcher = await receiver();
      const watching = await h.endpoints.create(project, { url: watcher.url, eventTypes: ['endpoint.*'] });

      // Default health policy: disabled after 5 days without success and at least 20 failures.
      const messages: MessageId[] = [];
      for (let i = 0; i < 8; i++) {
        messages.push(
          (await h.publisher.publish({ projectId: project, eventType: 'order.created', payload: { i } })).id,
        );
      }
      await h.worker.drain();
      clock.advance(10 * MINUTE);
      await h.worker.drain();
      clock.advance(10 * MINUTE);
      await h.worker.drain();
      // 8 messages × 4 attempts (first + 3 retries), then each delivery failed for good.
      assert.equal(r.received.length, 32);
      for (const id of messages) {
        const [d] = await h.store.listMessageDeliveries(project, id);
        assert.equal(d?.status, 'failed');
        assert.equal(d?.attemptCount, 4);
        assert.equal(d?.lastFailureKind, 'http_status');
        assert.equal(d?.attempts.at(-1)?.nextAttemptAtMs, null);
      }
      let health = (await h.store.getEndpoint(project, failing.endpoint.id))?.health;
      assert.equal(health?.state, 'failing');
      assert.equal(health?.failedSinceSuccess, 32);
      assert.equal(watcher.received.length, 0);

      // Five days later the next failure disables it, and the other endpoints hear about it.
      clock.advance(5 * 24 * HOUR);
      await h.publisher.publish({ projectId: project, eventType: 'order.created', payload: { i: 8 } });
      await h.worker.drain();
      health = (await h.store.getEndpoint(project, failing.endpoint.id))?.health;
      assert.deepEqual([health?.state, health?.reason], ['disabled', 'sustained_failure']);
      await watcher.waitFor(1);
      const notice = verify(watching.secret, watcher.received[0] as Received) as {
        eventType: string;
        payload: { endpointId: EndpointId; reason: string; url: string };
      };
      assert.equal(notice.eventType, 'endpoint.disabled');
      assert.equal(notice.payload.endpointId, failing.endpoint.id);
      assert.equal(notice.payload.reason, 'sustained_failure');
      assert.equal(notice.payload.url, r.url);
      // The disabled endpoint never received its own notice, and gets no more attempts.
      const before = r.received.length;
      await h.publisher.publish({ projectId: project, eventType: 'order.created', payload: { i: 9 } });
      await h.worker.drain();
      assert.equal(r.received.length, before);
      assert.ok(r.received.every((got) => !got.body.includes('endpoint.disabled')));
    });

    it('disables an endpoint at once on 410, announces it, and re-delivers on enable + recover', async () => {
      const gone = await receiver();
      gone.respond({ status: 410, body: 'gone' });
      const watcher = await receiver();
      const project = await h.newProject();
      const target = await h.endpoints.create(project, { url: gone.url, eventTypes: ['invoice.*'] });
      const watching = await h.endpoints.create(project, {
        url: watcher.url,
        eventTypes: ['endpoint.disabled'],
      });
      const tStart = clock.nowMs();

      const first = await h.publisher.publish({
        projectId: project,
        eventType: 'invoice.paid',
        payload: { n: 1 },
      });
      await h.worker.drain();
      let [d] = await h.store.listMessageDeliveries(project, first.id);
      assert.equal(d?.status, 'failed', '410 is not retried');
      assert.deepEqual(
        d?.attempts.map((a) => [a.statusCode, a.nextAttemptAtMs]),
        [[410, null]],
      );
      let endpoint = await h.store.getEndpoint(project, target.endpoint.id);
      assert.deepEqual([endpoint?.health.state, endpoint?.health.reason], ['disabled', 'gone']);
      await watcher.waitFor(1);
      assert.equal(watcher.received.length, 1);
      const notice = verify(watching.secret, watcher.received[0] as Received) as {
        payload: { endpointId: string; reason: string };
      };
      assert.deepEqual([notice.payload.endpointId, notice.payload.reason], [target.endpoint.id, 'gone']);

      // While disabled, new messages are recorded as failed without an attempt.
      clock.advance(MINUTE);
      const second = await h.publisher.publish({
        projectId: project,
        eventType: 'invoice.paid',
        payload: { n: 2 },
      });
      await h.worker.drain();
      [d] = await h.store.listMessageDeliveries(project, second.id);
      assert.deepEqual(
        [d?.status, d?.lastFailureKind, d?.attempts.length],
        ['failed', 'endpoint_disabled', 0],
      );
      assert.equal(gone.received.length, 1);

      // Recover refuses while disabled; enable clears health; recover re-queues both.
      await assert.rejects(h.endpoints.recover(project, target.endpoint.id, tStart), { code: 'conflict' });
      endpoint = await h.endpoints.enable(project, target.endpoint.id);
      assert.deepEqual([endpoint.health.state, endpoint.health.reason], ['active', 'manual_enable']);
      assert.equal(await h.endpoints.recover(project, target.endpoint.id, tStart), 2);
      await h.worker.drain();
      assert.equal(gone.received.length, 3);
      for (const id of [first.id, second.id]) {
        [d] = await h.store.listMessageDeliveries(project, id);
        assert.equal(d?.status, 'succeeded');
      }
      // Recovering again finds nothing failed: nothing is sent twice.
      assert.equal(await h.endpoints.recover(project, target.endpoint.id, tStart), 0);
      await h.worker.drain();
      assert.equal(gone.received.length, 3);
      assert.equal(watcher.received.length, 1);
    });

    it('signs with every live secret during a rotation grace period, verified by standardwebhooks', async () => {
      const r = await receiver();
      const project = await h.newProject();
      const created = await h.endpoints.create(project, {
        url: r.url,
        signatureScheme: 'standard-webhooks+hmac-sha256-hex',
        signatureHeader: 'X-Paradym-HMAC-SHA-256',
      });
      const oldSecret = created.secret;
      await h.publisher.publish({ projectId: project, eventType: 'a.b', payload: 1 });
      await h.worker.drain();

      const rotated = await h.endpoints.rotateSecret(project, created.endpoint.id, { graceMs: HOUR });
      await h.publisher.publish({ projectId: project, eventType: 'a.b', payload: 2 });
      await h.worker.drain();
      clock.advance(HOUR + SECOND);
      await h.publisher.publish({ projectId: project, eventType: 'a.b', payload: 3 });
      await h.worker.drain();

      const [beforeRotation, during, afterGrace] = await r.waitFor(3);
      assert.ok(beforeRotation && during && afterGrace);
      assert.equal(String(beforeRotation.headers['webhook-signature']).split(' ').length, 1);
      assert.equal(String(during.headers['webhook-signature']).split(' ').length, 2);
      assert.equal(String(afterGrace.headers['webhook-signature']).split(' ').length, 1);
      assert.deepEqual((verify(oldSecret, beforeRotation) as { payload: unknown }).payload, 1);
      // During the grace period a receiver holding either secret verifies.
      assert.deepEqual((verify(oldSecret, during) as { payload: unknown }).payload, 2);
      assert.deepEqual((verify(rotated.secret, during) as { payload: unknown }).payload, 2);
      // After it, only the new one does.
      assert.deepEqual((verify(rotated.secret, afterGrace) as { payload: unknown }).payload, 3);
      assert.throws(() => verify(oldSecret, afterGrace), WebhookVerificationError);
      // The plain hex header: HMAC-SHA256 of the raw body, keyed with the current whsec_ string.
      const hex = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');
      assert.equal(beforeRotation.headers['x-paradym-hmac-sha-256'], hex(oldSecret, beforeRotation.body));
      assert.equal(during.headers['x-paradym-hmac-sha-256'], hex(rotated.secret, during.body));
    });

    it('takes back the deliveries of a worker that died holding them once the lease runs out', async () => {
      const r = await receiver();
      const project = await h.newProject();
      await h.endpoints.create(project, { url: r.url });
      await h.worker.stop();
      const published = await h.publisher.publish({ projectId: project, eventType: 'a.b', payload: 1 });
      // Another worker claims and dies without a word.
      const stolen = await h.store.claimDueDeliveries({
        limit: 10,
        nowMs: clock.nowMs(),
        leaseMs: 30 * SECOND,
      });
      assert.equal(stolen.length, 1);
      const fresh = await h.startWorker();
      try {
        await fresh.drain();
        assert.equal(r.received.length, 0, 'the lease still holds');
        clock.advance(30 * SECOND);
        await fresh.drain();
        assert.equal(r.received.length, 1);
        const [d] = await h.store.listMessageDeliveries(project, published.id);
        assert.equal(d?.status, 'succeeded');
      } finally {
        await fresh.stop();
      }
    });
  });
}
