import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { FakeClock } from '../../src/domain/clock.ts';
import { newId, type ProjectId } from '../../src/domain/ids.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import type { WorkflowRecord } from '../../src/store/workflow-store.ts';
import { planSchedule, type ScheduleTrigger } from '../../src/workflows/schedule-plan.ts';
import { createWorkflowScheduler } from '../../src/workflows/workflow-scheduler.ts';
import { createWorkflowTriggers } from '../../src/workflows/workflow-triggers.ts';
import { openTestStore, seedProject, type TestStore } from '../helpers/stores.ts';

const iso = (ms: number[]) => ms.map((m) => new Date(m).toISOString());
const at = (s: string) => Date.parse(s);

describe('schedule plans: each kind, in its time zone', () => {
  const anchor = at('2026-03-02T10:00:00Z');
  it('every N seconds and minutes count from the anchor, not from the top of the hour', () => {
    const minutes = planSchedule({ type: 'schedule', every: { minutes: 7 } }, anchor);
    assert.deepEqual(iso(minutes.between(at('2026-03-02T10:10:00Z'), at('2026-03-02T10:30:00Z'), 10)), [
      '2026-03-02T10:14:00.000Z',
      '2026-03-02T10:21:00.000Z',
      '2026-03-02T10:28:00.000Z',
    ]);
    const seconds = planSchedule({ type: 'schedule', every: { seconds: 5 } }, anchor + 2000);
    assert.deepEqual(iso(seconds.between(anchor, anchor + 13_000, 10)), [
      '2026-03-02T10:00:02.000Z',
      '2026-03-02T10:00:07.000Z',
      '2026-03-02T10:00:12.000Z',
    ]);
    // At most `max`, the latest ones.
    assert.deepEqual(iso(seconds.between(anchor, anchor + 13_000, 1)), ['2026-03-02T10:00:12.000Z']);
  });

  it('hourly at a minute, every N days at a local time, weekly, and cron', () => {
    const hourly = planSchedule(
      { type: 'schedule', every: { hours: 1, atMinute: 15 }, timezone: 'Asia/Kolkata' },
      anchor,
    );
    // Kolkata is UTC+05:30: minute 15 local is minute 45 UTC.
    assert.deepEqual(iso(hourly.between(at('2026-03-02T10:00:00Z'), at('2026-03-02T12:00:00Z'), 10)), [
      '2026-03-02T10:45:00.000Z',
      '2026-03-02T11:45:00.000Z',
    ]);
    const everyTwoDays = planSchedule(
      { type: 'schedule', every: { days: 2, at: '09:00' }, timezone: 'Europe/Paris' },
      at('2026-03-02T08:00:00Z'),
    );
    assert.deepEqual(iso(everyTwoDays.between(at('2026-03-02T00:00:00Z'), at('2026-03-07T23:00:00Z'), 10)), [
      '2026-03-02T08:00:00.000Z',
      '2026-03-04T08:00:00.000Z',
      '2026-03-06T08:00:00.000Z',
    ]);
    const weekly = planSchedule(
      { type: 'schedule', every: { weekday: 'monday', at: '12:00' }, timezone: 'America/New_York' },
      anchor,
    );
    assert.deepEqual(iso(weekly.between(at('2026-03-01T00:00:00Z'), at('2026-03-17T00:00:00Z'), 10)), [
      '2026-03-02T17:00:00.000Z',
      // New York moved to daylight time on 8 March: noon is 16:00 UTC from then on.
      '2026-03-09T16:00:00.000Z',
      '2026-03-16T16:00:00.000Z',
    ]);
    const cron = planSchedule({ type: 'schedule', cron: '0 */6 * * *', timezone: 'UTC' }, anchor);
    assert.deepEqual(iso(cron.between(at('2026-03-02T00:00:00Z'), at('2026-03-02T13:00:00Z'), 10)), [
      '2026-03-02T06:00:00.000Z',
      '2026-03-02T12:00:00.000Z',
    ]);
  });

  it('keeps the local time across a DST change (Europe/Paris, 29 March and 25 October 2026)', () => {
    const daily = planSchedule(
      { type: 'schedule', every: { days: 1, at: '09:00' }, timezone: 'Europe/Paris' },
      at('2026-03-20T08:00:00Z'),
    );
    assert.deepEqual(iso(daily.between(at('2026-03-28T00:00:00Z'), at('2026-03-30T23:00:00Z'), 10)), [
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
    assert.deepEqual(iso(daily.between(at('2026-10-24T00:00:00Z'), at('2026-10-26T23:00:00Z'), 10)), [
      '2026-10-24T07:00:00.000Z',
      '2026-10-25T08:00:00.000Z',
      '2026-10-26T08:00:00.000Z',
    ]);
    // 02:30 does not exist on 29 March in Paris: that day it fires once, after the gap.
    const gap = planSchedule({ type: 'schedule', cron: '30 2 * * *', timezone: 'Europe/Paris' }, 0);
    assert.deepEqual(iso(gap.between(at('2026-03-28T12:00:00Z'), at('2026-03-30T12:00:00Z'), 10)), [
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });
});

describe('the scheduler over a store, with a fake clock', () => {
  let t: TestStore;
  let projectId: ProjectId;
  const logger = pino({ level: 'silent' });
  before(async () => {
    t = await openTestStore('postgres');
    projectId = await seedProject(t.store);
  });
  after(async () => {
    await t.cleanup();
  });

  async function scheduled(store: Store, trigger: ScheduleTrigger, users: string[]): Promise<WorkflowRecord> {
    const w: WorkflowRecord = {
      id: newId('workflow'),
      projectId,
      name: 's',
      version: 1,
      deployed: true,
      triggerType: 'schedule',
      triggerKey: null,
      createdAtMs: at('2026-01-01T00:00:00Z'),
      updatedAtMs: 0,
    };
    await store.insertWorkflow(w, { name: 's', trigger, steps: [] });
    for (const u of users) await store.setWorkflowUserEnabled(projectId, w.id, u, true, 0);
    return w;
  }
  const runs = async (store: Store, w: WorkflowRecord) =>
    (await store.listExecutions(projectId, { workflowId: w.id }, { limit: 500 })).items
      .map((e) => `${e.userId}@${(e.triggerInput as { scheduledAt: string }).scheduledAt}`)
      .sort();
  const schedulerOn = (store: Store, clock: FakeClock) =>
    createWorkflowScheduler(
      { store, clock, logger, triggers: createWorkflowTriggers({ store, clock, runner: null }) },
      { tickMs: 1000, graceMs: 5000 },
    );

  it('fires each time once per enabled user; after downtime, skip drops the missed fires and catchUp runs the latest N', async () => {
    const clock = new FakeClock(at('2026-05-01T10:00:00Z'));
    const scheduler = schedulerOn(t.store, clock);
    // Each workflow its own deployment: only these three are deployed while this test runs.
    const skip = await scheduled(t.store, { type: 'schedule', every: { minutes: 1 } }, ['a', 'b']);
    const catchUp = await scheduled(
      t.store,
      { type: 'schedule', every: { minutes: 1 }, misfire: { catchUp: 2 } },
      ['a'],
    );
    await scheduler.tick(); // first sight: the fire at now, nothing before it
    clock.advance(60_000);
    await scheduler.tick();
    assert.deepEqual((await runs(t.store, skip)).sort(), [
      'a@2026-05-01T10:00:00.000Z',
      'a@2026-05-01T10:01:00.000Z',
      'b@2026-05-01T10:00:00.000Z',
      'b@2026-05-01T10:01:00.000Z',
    ]);
    await scheduler.tick(); // the same time again: nothing new
    assert.equal((await runs(t.store, skip)).length, 4);
    // Down from 10:01 to 10:10:02: fires at 10:02 … 10:10 were due.
    clock.set(at('2026-05-01T10:10:02Z'));
    await scheduler.tick();
    assert.deepEqual(
      (await runs(t.store, skip)).filter((r) => r.startsWith('a')),
      ['a@2026-05-01T10:00:00.000Z', 'a@2026-05-01T10:01:00.000Z', 'a@2026-05-01T10:10:00.000Z'],
    );
    assert.deepEqual(await runs(t.store, catchUp), [
      'a@2026-05-01T10:00:00.000Z',
      'a@2026-05-01T10:01:00.000Z',
      'a@2026-05-01T10:08:00.000Z',
      'a@2026-05-01T10:09:00.000Z',
      'a@2026-05-01T10:10:00.000Z',
    ]);
    for (const w of [skip, catchUp]) await t.store.setWorkflowDeployed(projectId, w.id, false, 0);
  });

  it('overlap skip starts nothing while the user’s previous run is active; allow does', async () => {
    const clock = new FakeClock(at('2026-06-01T10:00:00Z'));
    const scheduler = schedulerOn(t.store, clock);
    const skip = await scheduled(t.store, { type: 'schedule', every: { seconds: 10 }, overlap: 'skip' }, [
      'a',
    ]);
    const allow = await scheduled(t.store, { type: 'schedule', every: { seconds: 10 } }, ['a']);
    await scheduler.tick();
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000);
      await scheduler.tick();
    }
    // Nothing runs the executions here: the first stays active.
    assert.equal((await runs(t.store, skip)).length, 1);
    assert.equal((await runs(t.store, allow)).length, 4);
    for (const w of [skip, allow]) await t.store.setWorkflowDeployed(projectId, w.id, false, 0);
  });

  it('two schedulers on one PostgreSQL fire each (workflow, user, time) exactly once', async () => {
    const other = openStore({ databaseUrl: t.databaseUrl, dataDir: t.dataDir, poolSize: 3 });
    try {
      const clock = new FakeClock(at('2026-07-01T10:00:00Z'));
      const first = schedulerOn(t.store, clock);
      const second = schedulerOn(other, clock);
      const w = await scheduled(t.store, { type: 'schedule', every: { seconds: 5 } }, ['a', 'b', 'c']);
      await Promise.all([first.tick(), second.tick()]);
      for (let i = 0; i < 6; i++) {
        clock.advance(5000);
        await Promise.all([first.tick(), second.tick()]);
      }
      const all = await runs(t.store, w);
      // 7 fire times (10:00:00 to 10:00:30) for 3 users.
      assert.equal(all.length, 21);
      assert.equal(new Set(all).size, 21);
      await t.store.setWorkflowDeployed(projectId, w.id, false, 0);
    } finally {
      await other.close();
    }
  });
});
