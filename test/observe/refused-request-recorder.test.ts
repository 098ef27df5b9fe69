import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { newId, type ProjectId } from '../../src/domain/ids.ts';
import { createRefusedRequestRecorder, type Refusal } from '../../src/observe/refused-request-recorder.ts';
import { hashKey } from '../../src/security/api-key.ts';
import { openTestStore, STORE_KINDS, seedProject, seedSource, type TestStore } from '../helpers/stores.ts';

const refusal = (projectId: ProjectId | null, sourceId: string, n: number): Refusal => ({
  projectId,
  sourceId,
  reasonCode: 'signature_invalid',
  reason: `bad signature ${n}`,
  status: 401,
  method: 'POST',
  url: `/in/${sourceId}?token=secret-${n}`,
  headers: { 'content-type': 'application/json', authorization: 'Bearer nope', 'x-signature': 'abc' },
  remoteAddress: '127.0.0.1',
  body: Buffer.from(`{"n":${n}}`),
});

for (const kind of STORE_KINDS) {
  describe(`refused request recorder and stream tickets (${kind})`, () => {
    let t: TestStore;
    let projectId: ProjectId;
    let sourceId: string;
    before(async () => {
      t = await openTestStore(kind);
      projectId = await seedProject(t.store);
      sourceId = await seedSource(t.store, projectId);
    });
    after(async () => {
      await t.cleanup();
    });
    const clock = { nowMs: () => Date.now() };

    it('counts what a full buffer dropped as one not_recorded row, and keeps no credential', async () => {
      const recorder = createRefusedRequestRecorder(
        { store: t.store, clock, logger: pino({ level: 'silent' }) },
        { maxBuffered: 3, flushIntervalMs: 60_000, retentionMs: 86_400_000, keepPerSource: 100 },
      );
      for (let i = 0; i < 10; i++) recorder.record(refusal(projectId, sourceId, i));
      await recorder.flush();
      const page = await t.store.listRefusedRequests(projectId, sourceId, { limit: 50 });
      const dropped = page.items.filter((r) => r.reasonCode === 'not_recorded');
      assert.equal(page.items.length, 4);
      assert.equal(dropped.length, 1);
      assert.equal(dropped[0]?.count, 7);
      const kept = page.items.filter((r) => r.reasonCode === 'signature_invalid');
      assert.deepEqual(kept.map((r) => r.reason).sort(), [
        'bad signature 0',
        'bad signature 1',
        'bad signature 2',
      ]);
      const text = JSON.stringify(page.items);
      assert.equal(text.includes('secret-'), false, 'the query string is not kept');
      assert.equal(text.includes('Bearer'), false, 'header values other than the few kept are not stored');
      assert.match(kept[0]?.metadata.headerNames ?? '', /authorization,content-type,x-signature/);

      // After a flush the buffer has room again.
      recorder.record(refusal(projectId, sourceId, 11));
      await recorder.flush();
      assert.equal((await t.store.listRefusedRequests(projectId, sourceId, { limit: 50 })).items.length, 5);
    });

    it('trims each source to its newest rows, and unknown sources together', async () => {
      const other = await seedSource(t.store, projectId);
      // Ids order by millisecond: each refusal a millisecond after the last.
      let ms = Date.now();
      const ticking = { nowMs: () => ms++ };
      const recorder = createRefusedRequestRecorder(
        { store: t.store, clock: ticking, logger: pino({ level: 'silent' }) },
        { maxBuffered: 100, flushIntervalMs: 60_000, retentionMs: 86_400_000, keepPerSource: 2 },
      );
      for (let i = 0; i < 5; i++) recorder.record(refusal(projectId, other, i));
      for (let i = 0; i < 5; i++) recorder.record(refusal(null, newId('source'), i));
      await recorder.flush();
      const kept = await t.store.listRefusedRequests(projectId, other, { limit: 50 });
      assert.deepEqual(
        kept.items.map((r) => r.reason),
        ['bad signature 4', 'bad signature 3'],
      );
      assert.equal(
        (await t.store.listRefusedRequests(projectId, sourceId, { limit: 50 })).items.length,
        5,
        'other sources are left alone',
      );
    });

    it('takes a stream ticket once, and never after it expired', async () => {
      const now = Date.now();
      await t.store.insertStreamTicket(hashKey('a'), projectId, now + 60_000);
      assert.equal(await t.store.takeStreamTicket(hashKey('a'), now), projectId);
      assert.equal(await t.store.takeStreamTicket(hashKey('a'), now), null);
      await t.store.insertStreamTicket(hashKey('b'), projectId, now + 60_000);
      assert.equal(await t.store.takeStreamTicket(hashKey('b'), now + 60_001), null);
      const [one, two] = await Promise.all([
        (async () => {
          await t.store.insertStreamTicket(hashKey('c'), projectId, now + 60_000);
          return Promise.all([
            t.store.takeStreamTicket(hashKey('c'), now),
            t.store.takeStreamTicket(hashKey('c'), now),
          ]);
        })(),
        Promise.resolve(null),
      ]);
      assert.equal(two, null);
      assert.deepEqual(
        [...(one ?? [])].sort(),
        [null, projectId].sort(),
        'of two takes at once, one gets it',
      );
    });
  });
}
