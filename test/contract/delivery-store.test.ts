import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type DeliveryId,
  type EndpointId,
  type MessageId,
  newId,
  type ProjectId,
} from '../../src/domain/ids.ts';
import type { ClaimedDelivery, DeliveryCompletion, EndpointRecord } from '../../src/store/delivery-store.ts';
import {
  testAttempt as attemptFor,
  testEndpoint as endpoint,
  HEALTHY_ENDPOINT as HEALTHY,
  testMessage as message,
  openTestStore,
  STORE_VARIANTS,
  seedProject as seedProjectRow,
  type TestStore,
} from '../helpers/stores.ts';

function seedProject(t: TestStore): Promise<ProjectId> {
  return seedProjectRow(t.store);
}

function success(c: ClaimedDelivery, nowMs = 2000): DeliveryCompletion {
  return {
    deliveryId: c.id,
    status: 'succeeded',
    nextAttemptAtMs: nowMs,
    updatedAtMs: nowMs,
    lastFailureKind: null,
    attempt: attemptFor(c, { startedAtMs: nowMs }),
  };
}

// SQLite twice: publishes, claims and outcomes written on the event loop's connection, and as jobs
// on the writer thread (where claims and outcomes commit without waiting for their fsync).
for (const { kind, sqliteWriterThread, name } of STORE_VARIANTS) {
  describe(`delivery store contract (${name})`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(kind, { sqliteWriterThread });
    });
    after(async () => {
      await t.cleanup();
    });

    /** Claims everything due, far in the future, so earlier tests' leftovers do not interfere. */
    /** A project with two stored default endpoints. */
    async function projectWithTwoEndpoints(): Promise<[ProjectId, EndpointRecord, EndpointRecord]> {
      const projectId = await seedProject(t);
      const a = endpoint(projectId);
      const b = endpoint(projectId);
      await t.store.insertEndpoint(a);
      await t.store.insertEndpoint(b);
      return [projectId, a, b];
    }

    async function drainAll(): Promise<void> {
      for (;;) {
        const claimed = await t.store.claimDueDeliveries({ limit: 500, nowMs: 9e12, leaseMs: 1 });
        if (claimed.length === 0) return;
        await t.store.completeDeliveries(claimed.map((c) => success(c)));
      }
    }

    it('creates, reads, lists, updates and deletes endpoints within a project', async () => {
      const projectId = await seedProject(t);
      const other = await seedProject(t);
      const a = endpoint(projectId);
      const b = endpoint(projectId, {
        name: 'second',
        eventTypes: [],
        rateLimitPerSecond: 5,
        maxConcurrency: null,
        signatureScheme: 'standard-webhooks+hmac-sha256-hex',
        signatureHeader: 'X-Signature',
        enabled: false,
      });
      await t.store.insertEndpoint(a);
      await t.store.insertEndpoint(b);
      assert.deepEqual(await t.store.getEndpoint(projectId, a.id), a);
      assert.deepEqual(await t.store.getEndpoint(projectId, b.id), b);
      assert.deepEqual(await t.store.getEndpointForDelivery(a.id), a);
      assert.equal(await t.store.getEndpoint(other, a.id), null);

      const page1 = await t.store.listEndpoints(projectId, { limit: 1 });
      assert.equal(page1.items.length, 1);
      assert.ok(page1.nextCursor);
      const page2 = await t.store.listEndpoints(projectId, { limit: 1, after: page1.nextCursor ?? '' });
      assert.equal(page2.nextCursor, null);
      assert.deepEqual([...page1.items, ...page2.items].map((e) => e.id).sort(), [a.id, b.id].sort());
      assert.deepEqual((await t.store.listEndpoints(other, { limit: 10 })).items, []);

      const routes = await t.store.listEndpointRoutes(projectId);
      assert.deepEqual(
        routes.find((r) => r.id === a.id),
        {
          id: a.id,
          userId: null,
          eventTypes: ['invoice.*'],
          objectTypes: [],
          active: true,
          updatedAtMs: 100,
          healthState: 'active',
          consecutiveFailures: 0,
          limited: true,
          retryDelaysMs: null,
          egressAllow: null,
        },
      );
      await t.store.putDeliverySettings({
        projectId,
        retryDelaysMs: [0, 10],
        egressAllow: ['10.0.0.0/8'],
        updatedAtMs: 5,
      });
      const withSettings = (await t.store.listEndpointRoutes(projectId)).find((r) => r.id === a.id);
      assert.deepEqual([withSettings?.retryDelaysMs, withSettings?.egressAllow], [[0, 10], ['10.0.0.0/8']]);
      assert.equal(routes.find((r) => r.id === b.id)?.active, false);

      const updated = {
        ...a,
        url: 'https://elsewhere.example/',
        headers: {},
        timeoutMs: 500,
        updatedAtMs: 200,
      };
      assert.equal(await t.store.updateEndpoint({ ...updated, projectId: other }), false);
      assert.equal(await t.store.updateEndpoint(updated), true);
      assert.deepEqual(await t.store.getEndpoint(projectId, a.id), updated);

      assert.equal(await t.store.deleteEndpoint(other, a.id), false);
      assert.equal(await t.store.deleteEndpoint(projectId, a.id), true);
      assert.equal(await t.store.getEndpoint(projectId, a.id), null);
      assert.equal(await t.store.deleteEndpoint(projectId, a.id), false);
    });

    it('compares-and-sets endpoint health and hides disabled endpoints from routing', async () => {
      const projectId = await seedProject(t);
      const e = endpoint(projectId);
      await t.store.insertEndpoint(e);
      const failing = {
        state: 'failing' as const,
        consecutiveFailures: 5,
        firstFailureAtMs: 10,
        failedSinceSuccess: 5,
        lastSuccessAtMs: 5,
        changedAtMs: 50,
        reason: 'consecutive_failures' as const,
      };
      assert.deepEqual(await t.store.getEndpointHealth(e.id), HEALTHY);
      assert.equal(await t.store.compareAndSetEndpointHealth(e.id, 0, failing), true);
      assert.deepEqual(await t.store.getEndpointHealth(e.id), { ...failing, version: 1 });
      assert.deepEqual((await t.store.getEndpoint(projectId, e.id))?.health, { ...failing, version: 1 });
      // A writer that read version 0 lost the race and must read again.
      assert.equal(await t.store.compareAndSetEndpointHealth(e.id, 0, HEALTHY), false);
      assert.equal(await t.store.getEndpointHealth(newId('endpoint')), null);
      assert.equal(await t.store.compareAndSetEndpointHealth(newId('endpoint'), 0, HEALTHY), false);

      // Concurrent read-modify-write loops each land exactly once (no lost update).
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (;;) {
            const h = await t.store.getEndpointHealth(e.id);
            assert.ok(h);
            const { version, ...rest } = h;
            const next = { ...rest, failedSinceSuccess: rest.failedSinceSuccess + 1 };
            if (await t.store.compareAndSetEndpointHealth(e.id, version, next)) return;
          }
        }),
      );
      const counted = await t.store.getEndpointHealth(e.id);
      assert.equal(counted?.failedSinceSuccess, 15);
      assert.equal(counted?.version, 11);

      await t.store.compareAndSetEndpointHealth(e.id, 11, { ...failing, state: 'disabled', reason: 'gone' });
      assert.equal((await t.store.listEndpointRoutes(projectId))[0]?.active, false);
      // A config update does not touch health.
      await t.store.updateEndpoint({ ...e, name: 'renamed', updatedAtMs: 300 });
      assert.equal((await t.store.getEndpoint(projectId, e.id))?.health.state, 'disabled');
    });

    it('registers event types and replaces their description and example', async () => {
      const projectId = await seedProject(t);
      const first = await t.store.upsertEventType({
        projectId,
        name: 'invoice.paid',
        description: 'An invoice was paid',
        example: { id: 'in_1', amount: 100 },
        createdAtMs: 10,
        updatedAtMs: 10,
      });
      assert.deepEqual(first.example, { id: 'in_1', amount: 100 });
      const second = await t.store.upsertEventType({
        projectId,
        name: 'invoice.paid',
        description: 'Paid',
        example: null,
        createdAtMs: 20,
        updatedAtMs: 20,
      });
      assert.deepEqual(second, {
        projectId,
        name: 'invoice.paid',
        description: 'Paid',
        example: null,
        createdAtMs: 10,
        updatedAtMs: 20,
      });
      await t.store.upsertEventType({ ...second, name: 'a.first', createdAtMs: 30, updatedAtMs: 30 });
      assert.deepEqual(
        (await t.store.listEventTypes(projectId)).map((e) => e.name),
        ['a.first', 'invoice.paid'],
      );
      assert.equal(await t.store.getEventType(await seedProject(t), 'invoice.paid'), null);
    });

    it('stores messages with their deliveries in one batch and lists them newest first', async () => {
      await drainAll();
      const [projectId, e1, e2] = await projectWithTwoEndpoints();
      const batch = Array.from({ length: 70 }, (_, i) =>
        message(projectId, [e1.id, e2.id], {
          id: newId('message', 1000 + i),
          eventType: i % 2 ? 'invoice.paid' : 'invoice.voided',
          createdAtMs: 1000 + i,
          credentialId: i === 0 ? 'cred_1' : null,
          userId: i === 0 ? 'user-1' : null,
        }),
      );
      const results = await t.store.insertMessages(batch);
      assert.deepEqual(
        results,
        batch.map((b) => ({ id: b.message.id, duplicate: false })),
      );
      const m0 = batch[0]?.message;
      assert.ok(m0);
      assert.deepEqual(await t.store.getMessage(projectId, m0.id), m0);
      assert.equal(await t.store.getMessage(await seedProject(t), m0.id), null);

      const deliveries = await t.store.listMessageDeliveries(projectId, m0.id);
      assert.equal(deliveries.length, 2);
      assert.deepEqual(
        deliveries.map((d) => [d.endpointId, d.status, d.attemptCount, d.nextAttemptAtMs, d.attempts.length]),
        [
          [e1.id, 'pending', 0, 1000, 0],
          [e2.id, 'pending', 0, 1000, 0],
        ],
      );

      const page = await t.store.listMessages(projectId, {}, { limit: 50 });
      assert.equal(page.items.length, 50);
      assert.equal(page.items[0]?.id, batch[69]?.message.id);
      const rest = await t.store.listMessages(projectId, {}, { limit: 50, after: page.nextCursor ?? '' });
      assert.equal(rest.items.length, 20);
      assert.equal(rest.nextCursor, null);
      assert.equal(
        (await t.store.listMessages(projectId, { eventType: 'invoice.paid' }, { limit: 100 })).items.length,
        35,
      );
      assert.deepEqual(
        (await t.store.listMessages(projectId, { credentialId: 'cred_1' }, { limit: 100 })).items.map(
          (m) => m.id,
        ),
        [m0.id],
      );
      await drainAll();
    });

    it('returns the first message for an idempotency key within the window, and a new one after it', async () => {
      const projectId = await seedProject(t);
      const first = message(
        projectId,
        [],
        { idempotencyKey: 'order-1', createdAtMs: 1000 },
        { idempotencyNotBeforeMs: 0 },
      );
      const again = message(
        projectId,
        [],
        { idempotencyKey: 'order-1', createdAtMs: 2000 },
        { idempotencyNotBeforeMs: 500 },
      );
      const inBatch = message(
        projectId,
        [],
        { idempotencyKey: 'order-2', createdAtMs: 2000 },
        { idempotencyNotBeforeMs: 500 },
      );
      const inBatchAgain = message(
        projectId,
        [],
        { idempotencyKey: 'order-2', createdAtMs: 2000 },
        { idempotencyNotBeforeMs: 500 },
      );
      assert.deepEqual(await t.store.insertMessages([first]), [{ id: first.message.id, duplicate: false }]);
      assert.deepEqual(await t.store.insertMessages([again, inBatch, inBatchAgain]), [
        { id: first.message.id, duplicate: true },
        { id: inBatch.message.id, duplicate: false },
        { id: inBatch.message.id, duplicate: true },
      ]);
      assert.equal(await t.store.getMessage(projectId, again.message.id), null);
      // After the window (the earlier use is older than notBefore) the key makes a new message.
      const later = message(
        projectId,
        [],
        { idempotencyKey: 'order-1', createdAtMs: 90_000 },
        { idempotencyNotBeforeMs: 5000 },
      );
      assert.deepEqual(await t.store.insertMessages([later]), [{ id: later.message.id, duplicate: false }]);
      // Keys are per project.
      const elsewhere = message(
        await seedProject(t),
        [],
        { idempotencyKey: 'order-1' },
        { idempotencyNotBeforeMs: 0 },
      );
      assert.equal((await t.store.insertMessages([elsewhere]))[0]?.duplicate, false);
      // Concurrent publishers of one key agree on one winner.
      const racers = Array.from({ length: 8 }, () =>
        message(projectId, [], { idempotencyKey: 'race', createdAtMs: 3000 }, { idempotencyNotBeforeMs: 0 }),
      );
      const raced = (await Promise.all(racers.map((r) => t.store.insertMessages([r])))).flat();
      assert.equal(raced.filter((r) => !r.duplicate).length, 1);
      assert.equal(new Set(raced.map((r) => r.id)).size, 1);
    });

    it('claims due deliveries in batches with a lease, and gives them back when the lease runs out', async () => {
      await drainAll();
      const projectId = await seedProject(t);
      const e = endpoint(projectId);
      await t.store.insertEndpoint(e);
      await t.store.putDeliverySettings({
        projectId,
        retryDelaysMs: [0, 1000],
        egressAllow: ['127.0.0.1/32'],
        updatedAtMs: 1,
      });
      const msgs = Array.from({ length: 5 }, (_, i) =>
        message(projectId, [e.id], { createdAtMs: 1000 + i, credentialId: 'cred_9', userId: 'u9' }),
      );
      await t.store.insertMessages(msgs);
      assert.deepEqual(await t.store.claimDueDeliveries({ limit: 10, nowMs: 999, leaseMs: 1000 }), []);
      // A delivery stored already leased (handed to the publishing process's worker) is not due.
      const leased = message(projectId, [e.id], { createdAtMs: 1000 });
      const handed = { ...leased, deliveries: leased.deliveries.map((d) => ({ ...d, leasedUntilMs: 7000 })) };
      await t.store.insertMessages([handed]);

      const claimed = await t.store.claimDueDeliveries({ limit: 3, nowMs: 5000, leaseMs: 1000 });
      assert.equal(claimed.length, 3);
      const c0 = claimed[0];
      assert.ok(c0);
      assert.deepEqual(c0, {
        id: msgs[0]?.deliveries[0]?.id,
        projectId,
        messageId: msgs[0]?.message.id,
        endpointId: e.id,
        orderingKey: null,
        attemptCount: 0,
        schedulePosition: 0,
        body: msgs[0]?.message.body,
        credentialId: 'cred_9',
        userId: 'u9',
        endpoint: { updatedAtMs: 100, enabled: true, healthState: 'active', consecutiveFailures: 0 },
        retryDelaysMs: [0, 1000],
        egressAllow: ['127.0.0.1/32'],
      });
      const rest = await t.store.claimDueDeliveries({ limit: 10, nowMs: 5000, leaseMs: 1000 });
      assert.deepEqual(
        rest.map((c) => c.id),
        msgs.slice(3).map((m) => m.deliveries[0]?.id),
      );
      assert.deepEqual(await t.store.claimDueDeliveries({ limit: 10, nowMs: 5999, leaseMs: 1000 }), []);
      assert.equal(
        (await t.store.getDelivery(projectId, handed.deliveries[0]?.id as DeliveryId))?.nextAttemptAtMs,
        7000,
      );
      // The claimer died: after the lease every unfinished delivery is due again.
      await t.store.completeDeliveries([success(c0, 5500)]);
      const reclaimed = await t.store.claimDueDeliveries({ limit: 10, nowMs: 6000, leaseMs: 1000 });
      assert.equal(reclaimed.length, 4);
      assert.ok(!reclaimed.some((c) => c.id === handed.deliveries[0]?.id));
      // Released deliveries are due at the time given.
      await t.store.releaseDeliveries(
        reclaimed.map((c) => c.id),
        6500,
      );
      assert.deepEqual(await t.store.claimDueDeliveries({ limit: 10, nowMs: 6499, leaseMs: 1000 }), []);
      assert.equal((await t.store.claimDueDeliveries({ limit: 10, nowMs: 6500, leaseMs: 1 })).length, 4);
      await drainAll();
    });

    it('skips excluded endpoints and projects when claiming', async () => {
      await drainAll();
      const p1 = await seedProject(t);
      const p2 = await seedProject(t);
      const a = endpoint(p1);
      const b = endpoint(p1);
      const c = endpoint(p2);
      for (const e of [a, b, c]) await t.store.insertEndpoint(e);
      await t.store.insertMessages([message(p1, [a.id, b.id]), message(p2, [c.id])]);
      const claimed = await t.store.claimDueDeliveries({
        limit: 10,
        nowMs: 5000,
        leaseMs: 1000,
        excludeEndpointIds: [a.id],
        excludeProjectIds: [p2],
      });
      assert.deepEqual(
        claimed.map((x) => x.endpointId),
        [b.id],
      );
      const many = Array.from({ length: 300 }, () => newId('endpoint'));
      const next = await t.store.claimDueDeliveries({
        limit: 10,
        nowMs: 5000,
        leaseMs: 1000,
        excludeEndpointIds: [...many, c.id],
      });
      assert.deepEqual(
        next.map((x) => x.endpointId),
        [a.id],
      );
      await drainAll();
    });

    it('leases an endpoint to one holder at a time; claims skip endpoints another holder has', async () => {
      await drainAll();
      const projectId = await seedProject(t);
      const a = { ...endpoint(projectId), maxConcurrency: null };
      const b = { ...endpoint(projectId), maxConcurrency: null };
      const limited = { ...endpoint(projectId), maxConcurrency: null, rateLimitPerSecond: 5 };
      for (const e of [a, b, limited]) await t.store.insertEndpoint(e);
      const routes = await t.store.listEndpointRoutes(projectId);
      assert.deepEqual(
        routes.map((r) => [r.id, r.limited]).sort(),
        [
          [a.id, false],
          [b.id, false],
          [limited.id, true],
        ].sort(),
      );
      // Ten holders ask at once: the database gives the lease to exactly one.
      const holders = Array.from({ length: 10 }, (_, i) => `w_${i}`);
      const answers = await Promise.all(holders.map((h) => t.store.holdEndpointLeases(h, [a.id], 60_000)));
      const winners = holders.filter((_, i) => answers[i]?.includes(a.id));
      assert.equal(winners.length, 1);
      const owner = winners[0] as string;
      const other = holders.find((h) => h !== owner) as string;
      // The holder extends its own lease; another holder gets nothing while it lasts.
      assert.deepEqual(await t.store.holdEndpointLeases(owner, [a.id, a.id], 60_000), [a.id]);
      assert.deepEqual(await t.store.holdEndpointLeases(other, [a.id], 60_000), []);
      await t.store.insertMessages([message(projectId, [a.id, b.id]), message(projectId, [a.id, b.id])]);
      const seenByOther = await t.store.claimDueDeliveries({
        limit: 10,
        nowMs: 5000,
        leaseMs: 1000,
        leaseHolder: other,
      });
      assert.deepEqual(
        seenByOther.map((x) => x.endpointId),
        [b.id, b.id],
      );
      const seenByOwner = await t.store.claimDueDeliveries({
        limit: 10,
        nowMs: 5000,
        leaseMs: 1000,
        leaseHolder: owner,
      });
      assert.deepEqual(
        seenByOwner.map((x) => x.endpointId),
        [a.id, a.id],
      );
      // Given up (only by its holder), the endpoint is free for the next.
      await t.store.releaseEndpointLeases(other, [a.id]);
      assert.deepEqual(await t.store.holdEndpointLeases(other, [a.id], 60_000), []);
      await t.store.releaseEndpointLeases(owner, [a.id]);
      assert.deepEqual(
        (await t.store.holdEndpointLeases(other, [a.id, b.id], 60_000)).sort(),
        [a.id, b.id].sort(),
      );
      // An expired lease is anyone's: a lease of 0 ms has ended by the next statement.
      assert.deepEqual(await t.store.holdEndpointLeases(other, [limited.id], 0), [limited.id]);
      await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(await t.store.holdEndpointLeases(owner, [limited.id], 60_000), [limited.id]);
      // Deleting an endpoint deletes its lease.
      assert.equal(await t.store.deleteEndpoint(projectId, limited.id), true);
      await t.store.insertEndpoint({ ...limited });
      assert.deepEqual(await t.store.holdEndpointLeases(other, [limited.id], 60_000), [limited.id]);
      await t.store.releaseEndpointLeases(other, [a.id, b.id, limited.id]);
      await drainAll();
    });

    it('caps each endpoint per claim; the wide window finds other endpoints behind a capped backlog', async () => {
      await drainAll();
      const [projectId, a, b] = await projectWithTwoEndpoints();
      // Ten of a's deliveries are due first, then two of b's.
      const aMessages = Array.from({ length: 10 }, (_, i) =>
        message(projectId, [a.id], { createdAtMs: 1000 + i }),
      );
      await t.store.insertMessages(aMessages);
      await t.store.insertMessages([
        message(projectId, [b.id], { createdAtMs: 2000 }),
        message(projectId, [b.id], { createdAtMs: 2001 }),
      ]);
      const count = (claimed: ClaimedDelivery[], id: EndpointId) =>
        claimed.filter((c) => c.endpointId === id).length;

      // Narrow: only the 4 oldest rows are looked at, all a's; a's cap (3) leaves one of them.
      const narrow = await t.store.claimDueDeliveries({
        limit: 4,
        nowMs: 5000,
        leaseMs: 1000,
        perEndpointLimit: 3,
        candidateWindow: 'narrow',
      });
      assert.equal(count(narrow, a.id), 3);
      assert.equal(count(narrow, b.id), 0);
      // In due order: a's oldest three.
      assert.deepEqual(
        narrow.map((c) => c.messageId),
        aMessages.slice(0, 3).map((m) => m.message.id),
      );

      // Wide (the default): past a's capped rows to b's. A per-endpoint room overrides the cap.
      const wide = await t.store.claimDueDeliveries({
        limit: 4,
        nowMs: 5000,
        leaseMs: 1000,
        perEndpointLimit: 3,
        endpointLimits: { [a.id]: 2 },
      });
      assert.equal(count(wide, a.id), 2);
      assert.equal(count(wide, b.id), 2);
      await drainAll();
    });

    it("caps a project per claim by its room, counting only rows within their endpoints' caps", async () => {
      await drainAll();
      const [full, a, b] = await projectWithTwoEndpoints();
      const [other, c] = await projectWithTwoEndpoints();
      // Due order: four of a's, two of b's (both of the nearly full project), then three of c's.
      await t.store.insertMessages(
        Array.from({ length: 4 }, (_, i) => message(full, [a.id], { createdAtMs: 1000 + i })),
      );
      await t.store.insertMessages([
        message(full, [b.id], { createdAtMs: 2000 }),
        message(full, [b.id], { createdAtMs: 2001 }),
      ]);
      await t.store.insertMessages(
        Array.from({ length: 3 }, (_, i) => message(other, [c.id], { createdAtMs: 3000 + i })),
      );
      const claimed = await t.store.claimDueDeliveries({
        limit: 10,
        nowMs: 5000,
        leaseMs: 1000,
        perEndpointLimit: 2,
        projectLimits: { [full]: 3 },
      });
      const of = (id: EndpointId) => claimed.filter((x) => x.endpointId === id).length;
      // a's cap (2) leaves its third and fourth rows out, and those do not use up the project's
      // room (3): b's first row takes its last place. The other project is bounded by its endpoint.
      assert.equal(of(a.id), 2);
      assert.equal(of(b.id), 1);
      assert.equal(of(c.id), 2);
      assert.equal(claimed.filter((x) => x.projectId === full).length, 3);
      await drainAll();
    });

    it('claims one delivery at a time per (endpoint, ordering key), in publish order', async () => {
      await drainAll();
      const [projectId, a, b] = await projectWithTwoEndpoints();
      const ordered = Array.from({ length: 3 }, (_, i) =>
        message(projectId, [a.id, b.id], { orderingKey: 'customer-1', createdAtMs: 3000 - i }),
      );
      for (const m of ordered) await t.store.insertMessages([m]);
      await t.store.insertMessages([message(projectId, [a.id], { orderingKey: 'customer-2' })]);
      await t.store.insertMessages([message(projectId, [a.id])]);

      const first = await t.store.claimDueDeliveries({ limit: 10, nowMs: 5000, leaseMs: 1000 });
      // Heads of (a, customer-1), (b, customer-1), (a, customer-2), and the unordered one.
      assert.equal(first.length, 4);
      const heads = first.filter((c) => c.orderingKey === 'customer-1');
      assert.deepEqual(
        heads.map((c) => c.messageId),
        [ordered[0]?.message.id, ordered[0]?.message.id],
      );
      // While a head is pending (in flight or waiting for a retry) the next one waits.
      const retry = heads[0];
      assert.ok(retry);
      await t.store.completeDeliveries([
        {
          deliveryId: retry.id,
          status: 'pending',
          nextAttemptAtMs: 5000,
          updatedAtMs: 5000,
          lastFailureKind: 'http_status',
          attempt: attemptFor(retry, { outcome: 'failed', statusCode: 500, nextAttemptAtMs: 5000 }),
        },
      ]);
      const second = await t.store.claimDueDeliveries({ limit: 10, nowMs: 5000, leaseMs: 1000 });
      assert.deepEqual(
        second.map((c) => [c.id, c.attemptCount, c.schedulePosition]),
        [[retry.id, 1, 1]],
      );
      await t.store.completeDeliveries(heads.map((h) => success(h, 5100)));
      const third = await t.store.claimDueDeliveries({ limit: 10, nowMs: 5100, leaseMs: 1000 });
      assert.deepEqual(
        third.map((c) => c.messageId),
        [ordered[1]?.message.id, ordered[1]?.message.id],
      );
      await drainAll();
    });

    it('records attempts and outcomes in one batch and lists a message’s deliveries with their attempts', async () => {
      await drainAll();
      const projectId = await seedProject(t);
      const e = endpoint(projectId);
      await t.store.insertEndpoint(e);
      const m = message(projectId, [e.id]);
      await t.store.insertMessages([m]);
      const [c] = await t.store.claimDueDeliveries({ limit: 1, nowMs: 5000, leaseMs: 1000 });
      assert.ok(c);
      const failed = attemptFor(c, {
        outcome: 'failed',
        statusCode: null,
        errorKind: 'timeout',
        errorMessage: 'the attempt did not complete within 10 ms.',
        responseHeaders: {},
        responseBody: '',
        durationMs: 10,
        startedAtMs: 5000,
        nextAttemptAtMs: 10_000,
      });
      await t.store.completeDeliveries([
        {
          deliveryId: c.id,
          status: 'pending',
          nextAttemptAtMs: 10_000,
          updatedAtMs: 5010,
          lastFailureKind: 'timeout',
          attempt: failed,
        },
      ]);
      const [c2] = await t.store.claimDueDeliveries({ limit: 1, nowMs: 10_000, leaseMs: 1000 });
      assert.ok(c2);
      const ok = attemptFor(c2, {
        statusCode: 204,
        startedAtMs: 10_000,
        responseBody: 'x'.repeat(4096),
        responseBodyTruncated: true,
      });
      await t.store.completeDeliveries([
        {
          deliveryId: c2.id,
          status: 'succeeded',
          nextAttemptAtMs: 10_000,
          updatedAtMs: 10_010,
          lastFailureKind: null,
          attempt: ok,
        },
      ]);
      const [d] = await t.store.listMessageDeliveries(projectId, m.message.id);
      assert.ok(d);
      assert.equal(d.status, 'succeeded');
      assert.equal(d.attemptCount, 2);
      assert.equal(d.lastStatusCode, 204);
      assert.equal(d.lastAttemptAtMs, 10_000);
      assert.equal(d.lastFailureKind, null);
      assert.deepEqual(d.attempts, [failed, ok]);
      assert.deepEqual(await t.store.getDelivery(projectId, d.id), (({ attempts: _a, ...rest }) => rest)(d));
      assert.equal(await t.store.getDelivery(await seedProject(t), d.id), null);
      // A finished delivery is not changed by a late completion (a worker whose lease ran out).
      await t.store.completeDeliveries([
        {
          deliveryId: c.id,
          status: 'pending',
          nextAttemptAtMs: 1,
          updatedAtMs: 1,
          lastFailureKind: 'timeout',
          attempt: null,
        },
      ]);
      assert.equal((await t.store.getDelivery(projectId, d.id))?.status, 'succeeded');
      assert.deepEqual(await t.store.claimDueDeliveries({ limit: 10, nowMs: 9e12, leaseMs: 1 }), []);
    });

    it('resends a message to all its endpoints or to one, creating a delivery where there was none', async () => {
      await drainAll();
      const projectId = await seedProject(t);
      const a = endpoint(projectId);
      const b = endpoint(projectId);
      const late = endpoint(projectId);
      for (const e of [a, b, late]) await t.store.insertEndpoint(e);
      const m = message(projectId, [a.id, b.id], { orderingKey: 'k' });
      await t.store.insertMessages([m]);
      // Pending deliveries are not queued twice.
      assert.deepEqual(await t.store.resendMessage(projectId, m.message.id, 6000), []);
      const claimed = await t.store.claimDueDeliveries({ limit: 10, nowMs: 5000, leaseMs: 1000 });
      await t.store.completeDeliveries(claimed.map((c) => success(c, 5000)));

      const all = await t.store.resendMessage(projectId, m.message.id, 6000);
      assert.deepEqual(all.sort(), m.deliveries.map((d) => d.id).sort());
      const again = await t.store.claimDueDeliveries({ limit: 10, nowMs: 6000, leaseMs: 1000 });
      assert.equal(again.length, 2);
      assert.ok(again.every((c) => c.attemptCount === 1 && c.schedulePosition === 0));
      await t.store.completeDeliveries(again.map((c) => success(c, 6000)));

      const one = await t.store.resendMessage(projectId, m.message.id, 7000, {
        endpointId: a.id,
        newDeliveryId: newId('delivery'),
      });
      assert.deepEqual(one, [m.deliveries[0]?.id]);
      const created = newId('delivery');
      assert.deepEqual(
        await t.store.resendMessage(projectId, m.message.id, 7000, {
          endpointId: late.id,
          newDeliveryId: created,
        }),
        [created],
      );
      const d = await t.store.getDelivery(projectId, created);
      assert.equal(d?.status, 'pending');
      assert.equal(d?.orderingKey, 'k');
      assert.equal(d?.endpointId, late.id);
      // The message now names the created delivery: a second resend to that endpoint finds it
      // (still pending, so nothing is queued) instead of creating another.
      assert.deepEqual(
        await t.store.resendMessage(projectId, m.message.id, 7000, {
          endpointId: late.id,
          newDeliveryId: newId('delivery'),
        }),
        [],
      );
      assert.deepEqual(
        (await t.store.listMessageDeliveries(projectId, m.message.id)).map((x) => x.id),
        [...m.deliveries.map((x) => x.id), created],
        'in creation order',
      );
      assert.deepEqual(await t.store.resendMessage(await seedProject(t), m.message.id, 7000), []);
      await drainAll();
    });

    it('fails pending deliveries of a disabled endpoint and recovers failed ones since a time', async () => {
      await drainAll();
      const projectId = await seedProject(t);
      const e = endpoint(projectId);
      await t.store.insertEndpoint(e);
      const older = message(projectId, [e.id], { createdAtMs: 1000 });
      const newer = message(projectId, [e.id], { createdAtMs: 2000 });
      const whileDisabled = message(projectId, [e.id], { createdAtMs: 3000 }, { status: 'failed' });
      await t.store.insertMessages([older, newer, whileDisabled]);
      assert.equal(await t.store.failPendingDeliveries(e.id, 4000), 2);
      const d = await t.store.getDelivery(projectId, whileDisabled.deliveries[0]?.id as DeliveryId);
      assert.equal(d?.status, 'failed');
      assert.equal(d?.lastFailureKind, 'endpoint_disabled');
      assert.deepEqual(await t.store.claimDueDeliveries({ limit: 10, nowMs: 9e12, leaseMs: 1 }), []);

      assert.equal(await t.store.recoverEndpoint(await seedProject(t), e.id, 0, 5000), 0);
      assert.equal(await t.store.recoverEndpoint(projectId, e.id, 2000, 5000), 2);
      const recovered = await t.store.claimDueDeliveries({ limit: 10, nowMs: 5000, leaseMs: 1000 });
      assert.deepEqual(
        recovered.map((c) => c.messageId).sort(),
        [newer.message.id, whileDisabled.message.id].sort(),
      );
      await drainAll();
    });

    it('deletes an endpoint with its deliveries and attempts; claims of deleted endpoints say so', async () => {
      await drainAll();
      const projectId = await seedProject(t);
      const e = endpoint(projectId);
      const gone = endpoint(projectId);
      await t.store.insertEndpoint(e);
      // A message published just as the endpoint was deleted still names it.
      const m = message(projectId, [e.id, gone.id]);
      await t.store.insertMessages([m]);
      const claimed = await t.store.claimDueDeliveries({ limit: 10, nowMs: 5000, leaseMs: 1000 });
      assert.equal(claimed.find((c) => c.endpointId === gone.id)?.endpoint, null);
      await t.store.completeDeliveries(claimed.map((c) => success(c)));
      assert.equal(await t.store.deleteEndpoint(projectId, e.id), true);
      assert.deepEqual(
        (await t.store.listMessageDeliveries(projectId, m.message.id)).map((d) => d.endpointId),
        [gone.id],
      );
    });

    it('stores per-project delivery settings', async () => {
      const projectId = await seedProject(t);
      assert.equal(await t.store.getDeliverySettings(projectId), null);
      await t.store.putDeliverySettings({
        projectId,
        retryDelaysMs: [0, 5],
        egressAllow: null,
        updatedAtMs: 1,
      });
      await t.store.putDeliverySettings({
        projectId,
        retryDelaysMs: null,
        egressAllow: ['10.0.0.0/8'],
        updatedAtMs: 2,
      });
      assert.deepEqual(await t.store.getDeliverySettings(projectId), {
        projectId,
        retryDelaysMs: null,
        egressAllow: ['10.0.0.0/8'],
        updatedAtMs: 2,
      });
    });

    it('survives many deliveries in one claim and one completion batch', async () => {
      await drainAll();
      const projectId = await seedProject(t);
      const e = endpoint(projectId);
      await t.store.insertEndpoint(e);
      const batch = Array.from({ length: 1500 }, () => message(projectId, [e.id]));
      await t.store.insertMessages(batch);
      const claimed = await t.store.claimDueDeliveries({ limit: 1300, nowMs: 5000, leaseMs: 1000 });
      assert.equal(claimed.length, 1300);
      assert.equal(new Set(claimed.map((c) => c.id)).size, 1300);
      await t.store.completeDeliveries(claimed.map((c) => success(c)));
      const rest = await t.store.claimDueDeliveries({ limit: 1300, nowMs: 5000, leaseMs: 1000 });
      assert.equal(rest.length, 200);
      await t.store.completeDeliveries(rest.map((c) => success(c)));
      const sample = batch[1400]?.message.id as MessageId;
      assert.equal((await t.store.listMessageDeliveries(projectId, sample))[0]?.status, 'succeeded');
    });
  });
}
