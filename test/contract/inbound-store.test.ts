import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newId, type ProjectId, type SourceId } from '../../src/domain/ids.ts';
import {
  type NewInboundEvent,
  PG_EVENT_STATEMENT_ROWS,
  type SourceRecord,
} from '../../src/store/inbound-store.ts';
import {
  openTestStore,
  STORE_VARIANTS,
  seedProject as seedProjectRow,
  type TestStore,
  testEndpoint,
} from '../helpers/stores.ts';

function seedProject(t: TestStore): Promise<ProjectId> {
  return seedProjectRow(t.store);
}

function source(projectId: ProjectId, name = 'stripe in'): SourceRecord {
  return {
    id: newId('source'),
    projectId,
    name,
    provider: 'stripe',
    settings: { dedupe: { jsonPath: '$.id' }, maxBodyBytes: 1024 },
    secretsSealed: 'sealed',
    publicKey: null,
    handshakeStateSealed: null,
    createdAtMs: 10,
    updatedAtMs: 10,
  };
}

function event(s: SourceRecord, dedupeKey: string, extra: Partial<NewInboundEvent> = {}): NewInboundEvent {
  const body = Buffer.from(JSON.stringify({ id: dedupeKey, bytes: [0, 255] }));
  return {
    id: newId('event'),
    projectId: s.projectId,
    sourceId: s.id,
    dedupeKey,
    providerEventId: dedupeKey,
    eventType: 'invoice.paid',
    method: 'POST',
    url: `https://hooks.example/in/${s.id}`,
    headers: { 'content-type': 'application/json', 'x-multi': ['a', 'b'] },
    body,
    jsonValid: true,
    verification: { ok: true, detail: 'v1 matched' },
    credentialId: null,
    routingKey: null,
    receivedAtMs: 1000,
    decided: null,
    ...extra,
  };
}

// SQLite twice: event batches written on the event loop's connection, and on the writer thread.
for (const { kind, sqliteWriterThread, name } of STORE_VARIANTS) {
  describe(`inbound store contract (${name})`, () => {
    let t: TestStore;
    let projectId: ProjectId;
    before(async () => {
      t = await openTestStore(kind, { sqliteWriterThread });
      projectId = await seedProject(t);
    });
    after(async () => {
      await t.cleanup();
    });

    it('creates, reads, lists, updates and deletes sources within a project', async () => {
      const s = source(projectId);
      await t.store.insertSource(s);
      assert.deepEqual(await t.store.getSource(projectId, s.id), s);
      assert.deepEqual(await t.store.getSourceForIngest(s.id), s);
      const other = await seedProject(t);
      assert.equal(await t.store.getSource(other, s.id), null);
      const updated = { ...s, name: 'renamed', settings: { maxBodyBytes: 2048 }, updatedAtMs: 20 };
      assert.equal(await t.store.updateSource({ ...updated, projectId: other }), false);
      assert.equal(await t.store.updateSource(updated), true);
      assert.deepEqual(await t.store.getSource(projectId, s.id), updated);
      assert.deepEqual(
        (await t.store.listSources(projectId, { limit: 10 })).items.map((x) => x.id),
        [s.id],
      );
      assert.equal(await t.store.deleteSource(other, s.id), false);
      assert.equal(await t.store.deleteSource(projectId, s.id), true);
      assert.equal(await t.store.getSourceForIngest(s.id), null);
    });

    it('stores events byte-exact and dedupes on (source, dedupe key), within and across batches', async () => {
      const s = source(projectId);
      await t.store.insertSource(s);
      const a = event(s, 'evt_a', { body: Buffer.from([0, 1, 2, 255, 254]) });
      const aAgain = event(s, 'evt_a');
      const b = event(s, 'evt_b');
      const results = await t.store.insertInboundEvents([a, aAgain, b]);
      assert.deepEqual(results, [
        { id: a.id, duplicate: false },
        { id: a.id, duplicate: true },
        { id: b.id, duplicate: false },
      ]);
      const again = await t.store.insertInboundEvents([event(s, 'evt_b')]);
      assert.deepEqual(again, [{ id: b.id, duplicate: true }]);
      const stored = await t.store.getInboundEvent(projectId, a.id);
      assert.ok(stored);
      assert.deepEqual(stored.body, Buffer.from([0, 1, 2, 255, 254]));
      assert.deepEqual(stored.headers, a.headers);
      assert.equal(stored.status, 'received');
      assert.equal(stored.processStatus, 'pending');
      // Another source may carry the same provider event id.
      const s2 = source(projectId, 'second');
      await t.store.insertSource(s2);
      assert.equal((await t.store.insertInboundEvents([event(s2, 'evt_a')]))[0]?.duplicate, false);
      assert.equal(await t.store.getInboundEvent(await seedProject(t), a.id), null, 'scoped by project');
    });

    it('dedupes across the statements of a large batch and answers each event in order', async () => {
      // PostgreSQL writes a batch as INSERTs of PG_EVENT_STATEMENT_ROWS rows each (and one of at
      // most that many without a transaction); duplicates here straddle those boundaries.
      const s = source(projectId, 'large batch');
      await t.store.insertSource(s);
      const stored = event(s, 'evt_stored_before');
      await t.store.insertInboundEvents([stored]);
      const size = PG_EVENT_STATEMENT_ROWS * 2 + 5;
      const batch = Array.from({ length: size }, (_, i) => event(s, `evt_${i}`));
      batch[PG_EVENT_STATEMENT_ROWS] = event(s, 'evt_0'); // first row of the second statement
      batch[size - 1] = event(s, 'evt_stored_before');
      const results = await t.store.insertInboundEvents(batch);
      assert.equal(results.length, size);
      results.forEach((r, i) => {
        const expected =
          i === PG_EVENT_STATEMENT_ROWS
            ? { id: batch[0]?.id, duplicate: true }
            : i === size - 1
              ? { id: stored.id, duplicate: true }
              : { id: batch[i]?.id, duplicate: false };
        assert.deepEqual(r, expected, `result ${i}`);
      });
      const listed = await t.store.listInboundEvents(projectId, { sourceId: s.id }, { limit: 100 });
      assert.equal(listed.items.length, size - 1, 'one stored event per distinct key');
      // A batch that fits one statement, with a duplicate inside it.
      const small = [event(s, 'evt_small'), event(s, 'evt_small'), event(s, 'evt_1')];
      assert.deepEqual(await t.store.insertInboundEvents(small), [
        { id: small[0]?.id, duplicate: false },
        { id: small[0]?.id, duplicate: true },
        { id: batch[1]?.id, duplicate: true },
      ]);
    });

    it('checks a body that claims JSON when the receiver left it to the store', async () => {
      const s = source(projectId);
      await t.store.insertSource(s);
      const good = event(s, 'facts-good', { jsonValid: 'unchecked' });
      const bad = event(s, 'facts-bad', { body: Buffer.from('{"id": nope'), jsonValid: 'unchecked' });
      const notJson = event(s, 'facts-form', { body: Buffer.from('a=1'), jsonValid: null });
      await t.store.insertInboundEvents([good, bad, notJson]);
      for (const [e, valid] of [
        [good, true],
        [bad, false],
        [notJson, null],
      ] as const) {
        const stored = await t.store.getInboundEvent(projectId, e.id);
        assert.equal(stored?.jsonValid, valid);
        assert.deepEqual(stored?.body, e.body, 'the body comes back byte for byte');
      }
      // The event log's summaries (no body) say the same.
      const listed = await t.store.listInboundEvents(projectId, { sourceId: s.id }, { limit: 10 });
      const byId = new Map(listed.items.map((i) => [i.id, i.jsonValid]));
      assert.deepEqual(
        [good, bad, notJson].map((e) => byId.get(e.id)),
        [true, false, null],
      );
      assert.ok(
        listed.items.every((i) => !('uncheckedBody' in i) && !('unchecked_body' in i)),
        'no body in a summary',
      );
    });

    it('marks a body that claims JSON as JSON.parse would, edge cases included', async () => {
      // The store leaves the check to the read (JSON_UNCHECKED), which must mark as JSON.parse
      // would, on either store. (SQLite's own json_valid, once used in the insert, said no past
      // 1,000 levels of nesting.)
      const s = source(projectId);
      await t.store.insertSource(s);
      const bodies: Record<string, Buffer> = {
        object: Buffer.from('{"a":[1,2,{"b":null}]}'),
        scalar: Buffer.from('42'),
        string: Buffer.from('"x"'),
        empty: Buffer.alloc(0),
        whitespace: Buffer.from(' \n '),
        byteOrderMark: Buffer.from('\ufeff{"a":1}'),
        notUtf8InString: Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
        notUtf8Outside: Buffer.concat([Buffer.from('{"a":1}'), Buffer.from([0xff])]),
        nulAfterJson: Buffer.from('{"a":1}\u0000{"b":2}'),
        nulInside: Buffer.from('{"a":"x\u0000"}'),
        loneSurrogateEscape: Buffer.from('{"a":"\\ud800"}'),
        trailingComma: Buffer.from('[1,]'),
        unquotedKey: Buffer.from('{a:1}'),
        nan: Buffer.from('NaN'),
        leadingZero: Buffer.from('01'),
        rawTab: Buffer.from('"a\tb"'),
        hugeExponent: Buffer.from('1e999'),
        nested999: Buffer.from(`${'['.repeat(999)}${']'.repeat(999)}`),
        nested1500: Buffer.from(`${'['.repeat(1500)}${']'.repeat(1500)}`),
        truncated: Buffer.from('{"a":'),
      };
      const events = Object.entries(bodies).map(([name, body]) =>
        event(s, `edge-${name}`, { body, jsonValid: 'unchecked' }),
      );
      await t.store.insertInboundEvents(events);
      const names = Object.keys(bodies);
      for (const [i, e] of events.entries()) {
        let expected: boolean;
        try {
          JSON.parse(e.body.toString('utf8'));
          expected = true;
        } catch {
          expected = false;
        }
        const stored = await t.store.getInboundEvent(projectId, e.id);
        assert.equal(stored?.jsonValid, expected, `${names[i]}: JSON.parse says ${expected}`);
        assert.deepEqual(stored?.body, e.body, `${names[i]} stored byte-exact`);
      }
    });

    it('lets concurrent batches race on one key and keeps exactly one event', async () => {
      const s = source(projectId);
      await t.store.insertSource(s);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => t.store.insertInboundEvents([event(s, 'evt_race')])),
      );
      const fresh = results.flat().filter((r) => !r.duplicate);
      assert.equal(fresh.length, 1);
      assert.ok(results.flat().every((r) => r.id === fresh[0]?.id));
      const listed = await t.store.listInboundEvents(projectId, { sourceId: s.id }, { limit: 50 });
      assert.equal(listed.items.length, 1);
    });

    it('lists events newest first with filters and cursor pages', async () => {
      const s = source(projectId);
      await t.store.insertSource(s);
      const evs = [];
      for (let i = 0; i < 5; i++) {
        evs.push(
          event(s, `k${i}`, {
            id: newId('event', 5000 + i),
            receivedAtMs: 5000 + i,
            providerEventId: `pe${i}`,
          }),
        );
      }
      await t.store.insertInboundEvents(evs);
      const first = await t.store.listInboundEvents(projectId, { sourceId: s.id }, { limit: 2 });
      assert.deepEqual(
        first.items.map((e) => e.dedupeKey),
        ['k4', 'k3'],
      );
      assert.equal(first.items[0]?.bodyBytes, evs[4]?.body.length);
      const second = await t.store.listInboundEvents(
        projectId,
        { sourceId: s.id },
        { limit: 2, after: first.nextCursor! },
      );
      assert.deepEqual(
        second.items.map((e) => e.dedupeKey),
        ['k2', 'k1'],
      );
      const byId = await t.store.listInboundEvents(projectId, { providerEventId: 'pe3' }, { limit: 10 });
      assert.deepEqual(
        byId.items.map((e) => e.dedupeKey),
        ['k3'],
      );
      const range = await t.store.listInboundEvents(
        projectId,
        { sourceId: s.id, receivedFromMs: 5001, receivedToMs: 5003 },
        { limit: 10 },
      );
      assert.deepEqual(
        range.items.map((e) => e.dedupeKey),
        ['k2', 'k1'],
      );
      const none = await t.store.listInboundEvents(
        projectId,
        { sourceId: s.id, status: 'unrouted' },
        { limit: 10 },
      );
      assert.equal(none.items.length, 0);
    });

    it('claims routing jobs once per lease, completes them and requeues unrouted ones', async () => {
      const s = source(projectId);
      await t.store.insertSource(s);
      const e1 = event(s, 'r1', { routingKey: 'T1', receivedAtMs: 100 });
      const e2 = event(s, 'r2', { routingKey: 'T2', receivedAtMs: 100 });
      await t.store.insertInboundEvents([e1, e2]);
      const now = 1_000_000;
      const claimed = await t.store.claimPendingInboundEvents(100, now, 30_000);
      const mine = claimed.filter((e) => e.sourceId === s.id);
      assert.equal(mine.length, 2);
      assert.equal(mine[0]?.processAttempts, 1);
      const again = await t.store.claimPendingInboundEvents(100, now + 1, 30_000);
      assert.equal(again.filter((e) => e.sourceId === s.id).length, 0, 'a claim is a lease');
      const expired = await t.store.claimPendingInboundEvents(100, now + 30_000, 30_000);
      assert.deepEqual(
        expired.filter((e) => e.sourceId === s.id).map((e) => e.processAttempts),
        [2, 2],
        'a lease that expired gives the job back, counted',
      );
      await t.store.completeInboundEvents([
        { projectId, id: e1.id, status: 'routed', tenantId: 'tnt_x' },
        { projectId, id: e2.id, status: 'unrouted', tenantId: null },
      ]);
      const after = await t.store.claimPendingInboundEvents(100, now + 60_000, 30_000);
      assert.equal(after.filter((e) => e.sourceId === s.id).length, 0, 'done events are not claimed');
      assert.equal((await t.store.getInboundEvent(projectId, e1.id))?.tenantId, 'tnt_x');
      const unrouted = await t.store.listInboundEvents(
        projectId,
        { status: 'unrouted', sourceId: s.id },
        { limit: 10 },
      );
      assert.deepEqual(
        unrouted.items.map((e) => e.id),
        [e2.id],
      );
      assert.equal(await t.store.requeueUnrouted(s.id, 'T2', now + 70_000), 1);
      assert.equal(await t.store.requeueUnrouted(s.id, 'T1', now + 70_000), 0, 'routed events stay');
      const requeued = await t.store.claimPendingInboundEvents(100, now + 70_000, 30_000);
      assert.deepEqual(
        requeued.filter((e) => e.sourceId === s.id).map((e) => e.id),
        [e2.id],
      );
    });

    it('retries a failed routing job from its retry time and sets one aside, replayable', async () => {
      const s = source(projectId);
      await t.store.insertSource(s);
      const retried = event(s, 'f1', { routingKey: 'T1', receivedAtMs: 5 });
      const poison = event(s, 'f2', { routingKey: 'T1', receivedAtMs: 5 });
      await t.store.insertInboundEvents([retried, poison]);
      const now = 2_000_000;
      const mine = async (atMs: number) =>
        (await t.store.claimPendingInboundEvents(1000, atMs, 30_000)).filter((e) => e.sourceId === s.id);
      assert.equal((await mine(now)).length, 2);
      await t.store.failInboundEvents([
        { projectId, id: retried.id, error: 'forwarder: store down', retryAtMs: now + 5000 },
        { projectId, id: poison.id, error: 'forwarder: RangeError: too deep', retryAtMs: null },
      ]);
      assert.equal((await mine(now + 4999)).length, 0, 'not before its retry time');
      const [again] = await mine(now + 5000);
      assert.equal(again?.id, retried.id, 'the set-aside one is never claimed');
      assert.equal(again?.processAttempts, 2);
      const failed = await t.store.listInboundEvents(
        projectId,
        { sourceId: s.id, processStatus: 'failed' },
        { limit: 10 },
      );
      assert.deepEqual(
        failed.items.map((e) => [e.id, e.processError]),
        [[poison.id, 'forwarder: RangeError: too deep']],
      );
      await t.store.completeInboundEvents([{ projectId, id: retried.id, status: 'routed', tenantId: null }]);
      const done = await t.store.getInboundEvent(projectId, retried.id);
      assert.equal(done?.processStatus, 'done');
      assert.equal(done?.processError, null, 'a success clears the error');

      assert.equal(await t.store.requeueFailedInboundEvent(projectId, retried.id, now), false, 'not failed');
      assert.equal(await t.store.requeueFailedInboundEvent(projectId, poison.id, now + 6000), true);
      const [replayed] = await mine(now + 6000);
      assert.equal(replayed?.id, poison.id);
      assert.equal(replayed?.processAttempts, 1, 'a replay starts its attempts again');
    });

    it('queues a routing job for an event decided at ingest when the project has an enabled endpoint', async () => {
      const other = await seedProject(t);
      const s = { ...source(other), settings: {} };
      await t.store.insertSource(s);
      const decided = { status: 'routed' as const, tenantId: null };
      await t.store.insertEndpoint(testEndpoint(other, { enabled: false }));
      const before = event(s, 'd1', { decided });
      await t.store.insertInboundEvents([before]);
      assert.equal((await t.store.getInboundEvent(other, before.id))?.processStatus, 'done');
      await t.store.insertEndpoint(testEndpoint(other));
      const afterEndpoint = event(s, 'd2', { decided });
      await t.store.insertInboundEvents([afterEndpoint]);
      const stored = await t.store.getInboundEvent(other, afterEndpoint.id);
      assert.equal(stored?.status, 'routed');
      assert.equal(stored?.processStatus, 'pending', 'the endpoint committed before the event is seen');
    });

    it('stores an event decided at ingest as routed, with no routing job', async () => {
      const s = source(projectId);
      await t.store.insertSource(s);
      const e = event(s, 'decided', {
        credentialId: 'cred_1',
        decided: { status: 'routed', tenantId: 'cred_1' },
      });
      await t.store.insertInboundEvents([e]);
      const stored = await t.store.getInboundEvent(projectId, e.id);
      assert.equal(stored?.status, 'routed');
      assert.equal(stored?.tenantId, 'cred_1');
      assert.equal(stored?.processStatus, 'done');
      const claimed = await t.store.claimPendingInboundEvents(1000, Number.MAX_SAFE_INTEGER, 1);
      assert.equal(
        claimed.some((c) => c.id === e.id),
        false,
      );
    });

    it('binds tenants once per (source, provider account id)', async () => {
      const s = source(projectId);
      await t.store.insertSource(s);
      const tenant = {
        id: newId('tenant'),
        projectId,
        sourceId: s.id as SourceId,
        providerAccountId: 'T123',
        userId: 'user-1',
        createdAtMs: 1,
      };
      const first = await t.store.upsertTenant(tenant);
      assert.equal(first.created, true);
      const second = await t.store.upsertTenant({ ...tenant, id: newId('tenant'), userId: 'user-2' });
      assert.equal(second.created, false);
      assert.equal(second.tenant.id, tenant.id);
      assert.deepEqual(await t.store.findTenant(s.id, 'T123'), tenant);
      assert.equal(await t.store.findTenant(s.id, 'nope'), null);
      assert.equal((await t.store.listTenants(projectId, s.id)).length, 1);
      assert.equal(await t.store.deleteTenant(await seedProject(t), tenant.id), false);
      assert.equal(await t.store.deleteTenant(projectId, tenant.id), true);
    });
  });
}
