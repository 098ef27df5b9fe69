import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompiledEndpoint } from '../../src/delivery/compiled-endpoint.ts';
import {
  type Job,
  type Lane,
  LaneScheduler,
  type LaneSchedulerOptions,
  type LaneTimers,
} from '../../src/delivery/lane-scheduler.ts';
import type { EndpointId, ProjectId } from '../../src/domain/ids.ts';
import type { ClaimedDelivery } from '../../src/store/delivery-store.ts';

/** A fake monotonic clock whose timers fire only when the test moves time on. */
class FakeTimers implements LaneTimers {
  now = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  nowMs(): number {
    return this.now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.now + ms, fn, id });
    return id;
  }
  clearTimeout(timer: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== timer);
  }
  get pending(): number {
    return this.timers.length;
  }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.now = due.at;
      due.fn();
    }
    this.now = until;
  }
}

function endpoint(
  id: string,
  projectId: string,
  limits: { maxConcurrency?: number; rateLimitPerSecond?: number } = {},
): CompiledEndpoint {
  return {
    id: id as EndpointId,
    projectId: projectId as ProjectId,
    updatedAtMs: 1,
    url: `http://127.0.0.1/${id}`,
    timeoutMs: 15_000,
    rateLimitPerSecond: limits.rateLimitPerSecond ?? null,
    maxConcurrency: limits.maxConcurrency ?? null,
    headers: {},
    keys: [],
    plainHmacHeader: undefined,
  };
}

let seq = 0;
function job(ep: CompiledEndpoint): Job {
  const delivery = { id: `dlv_${++seq}`, projectId: ep.projectId, endpointId: ep.id } as ClaimedDelivery;
  return { delivery, endpoint: ep };
}

const OPTIONS: LaneSchedulerOptions = {
  concurrency: 8,
  maxBuffered: 64,
  projectCap: 32,
  projectInFlightCap: 8,
  defaultEndpointConcurrency: 4,
  laneQueueDefault: 8,
  laneQueueDeepest: 24,
  perEndpointLimit: 12,
  leaseMs: 300_000,
  fastAttemptMs: 2,
};

function setup(options: Partial<LaneSchedulerOptions> = {}, mayStart: (lane: Lane) => boolean = () => true) {
  const timers = new FakeTimers();
  const started: Array<{ lane: Lane; job: Job }> = [];
  const scheduler = new LaneScheduler({ ...OPTIONS, ...options }, timers, {
    mayStart,
    start: (lane, j) => started.push({ lane, job: j }),
  });
  const add = (ep: CompiledEndpoint, n: number) => {
    const lane = scheduler.laneFor(ep);
    for (let i = 0; i < n; i++) scheduler.enqueue(lane, job(ep));
    return lane;
  };
  /** Ends the oldest running attempt after `attemptMs`, as the worker does, and refills. */
  const finishOldest = (attemptMs = 10, moreOnTheWay = false) => {
    const s = started.shift();
    assert.ok(s, 'an attempt is running');
    scheduler.finished(s.lane, attemptMs, moreOnTheWay);
    scheduler.markReady(s.lane);
    scheduler.pump();
    return s;
  };
  return { timers, started, scheduler, add, finishOldest };
}

describe('lane scheduler', () => {
  it('sends at most an endpoint maxConcurrency at once, the next as soon as one ends', () => {
    const { started, scheduler, add, finishOldest } = setup();
    add(endpoint('ep_a', 'prj_1', { maxConcurrency: 2 }), 5);
    scheduler.pump();
    assert.equal(started.length, 2);
    assert.equal(scheduler.inFlight, 2);
    assert.equal(scheduler.queued, 3);
    finishOldest();
    assert.equal(started.length, 2, 'one ended, one more started');
    assert.equal(scheduler.queued, 2);
  });

  it('gives lanes turns for the process slots (round robin)', () => {
    const { scheduler, add, finishOldest } = setup({ concurrency: 1 });
    add(endpoint('ep_a', 'prj_1'), 3);
    add(endpoint('ep_b', 'prj_2'), 3);
    scheduler.pump();
    const order: string[] = [];
    for (let i = 0; i < 6; i++) order.push(finishOldest().lane.id);
    assert.deepEqual(order, ['ep_a', 'ep_b', 'ep_a', 'ep_b', 'ep_a', 'ep_b']);
  });

  it('paces a rate-limited endpoint by the fake clock', () => {
    const { timers, started, scheduler, add } = setup();
    add(endpoint('ep_r', 'prj_1', { rateLimitPerSecond: 2, maxConcurrency: 10 }), 4);
    scheduler.pump();
    assert.equal(started.length, 2, 'a burst of one second of rate');
    assert.equal(timers.pending, 1, 'the lane waits on a timer for its next token');
    timers.advance(499);
    assert.equal(started.length, 2);
    timers.advance(1);
    assert.equal(started.length, 3, 'the next token came after 500 ms');
    timers.advance(500);
    assert.equal(started.length, 4);
  });

  it('holds a project to its share of the slots, without holding up other projects', () => {
    const { started, scheduler, add, finishOldest } = setup({ projectInFlightCap: 2 });
    add(endpoint('ep_a', 'prj_1'), 4);
    add(endpoint('ep_b', 'prj_1'), 4);
    add(endpoint('ep_c', 'prj_2'), 1);
    scheduler.pump();
    assert.deepEqual(started.map((s) => s.lane.id).sort(), ['ep_a', 'ep_b', 'ep_c']);
    finishOldest();
    assert.equal(started.filter((s) => s.lane.projectId === 'prj_1').length, 2);
  });

  it('skips a limited lane that may not send (no endpoint lease) and starts it once it may', () => {
    let allowed = false;
    const { started, scheduler, add } = setup({}, () => allowed);
    const lane = add(endpoint('ep_l', 'prj_1', { maxConcurrency: 1 }), 2);
    add(endpoint('ep_free', 'prj_1'), 1);
    scheduler.pump();
    assert.deepEqual(
      started.map((s) => s.lane.id),
      ['ep_free'],
      'an endpoint without limits of its own needs no lease',
    );
    started.length = 0;
    allowed = true;
    scheduler.markReady(lane);
    scheduler.pump();
    assert.equal(started.length, 1);
  });

  it('leaves a full lane out of claims and lets it back in once drained to half', () => {
    const { scheduler, add, finishOldest } = setup({ concurrency: 1 });
    const ep = endpoint('ep_f', 'prj_1', { maxConcurrency: 1 });
    const lane = add(ep, 1);
    scheduler.pump();
    // Room: queueLimit (8) plus free slots (0) minus waiting (0).
    assert.equal(scheduler.laneRoom(lane), 8);
    add(ep, 8);
    const limits = scheduler.claimLimits(100);
    assert.deepEqual(limits.endpoints, ['ep_f']);
    assert.equal(lane.excluded, true);
    assert.equal(scheduler.reopen(lane), false, 'still full');
    for (let i = 0; i < 4; i++) finishOldest();
    assert.equal(scheduler.reopen(lane), true, 'drained to half');
    assert.equal(lane.excluded, false);
  });

  it('bounds a claim by what a lane and a project can still take', () => {
    const { scheduler, add } = setup({ projectCap: 10 });
    add(endpoint('ep_a', 'prj_1'), 3);
    const limits = scheduler.claimLimits(100);
    // ep_a: 8 waiting room + 4 free slots - 3 waiting = 9; prj_1: 10 - 3 = 7.
    assert.deepEqual(limits.rooms, { ep_a: 9 });
    assert.deepEqual(limits.projectRooms, { prj_1: 7 });
  });

  it('deepens a fast lane that runs dry while more is on the way, and keeps the depth a while', () => {
    // A long claim lease, so the depth is not capped by what the lane can send within half of it.
    const { timers, scheduler, add, finishOldest } = setup({ concurrency: 1, leaseMs: 3_000_000 });
    const ep = endpoint('ep_fast', 'prj_1', { maxConcurrency: 1 });
    const lane = add(ep, 1);
    scheduler.pump();
    finishOldest(1, false);
    assert.equal(lane.queueLimit, 8, 'nothing on the way: no deepening');
    add(ep, 1);
    scheduler.pump();
    finishOldest(5, true);
    assert.equal(lane.queueLimit, 8, 'a slow attempt earns nothing');
    add(ep, 1);
    scheduler.pump();
    finishOldest(1, true);
    assert.equal(lane.queueLimit, 16);
    scheduler.dropLaneIfIdle(lane);
    assert.equal(scheduler.lanes.size, 0);
    timers.advance(5_000);
    assert.equal(scheduler.laneFor(ep).queueLimit, 16, 'earned depth outlives the lane');
  });

  it('reserves room for a hand-off only while the buffer, project and lane have it', () => {
    const { scheduler } = setup({ maxBuffered: 2, perEndpointLimit: 12 });
    const p = 'prj_1' as ProjectId;
    const e = 'ep_h' as EndpointId;
    assert.equal(scheduler.reserve(p, e), true);
    assert.equal(scheduler.reserve(p, e), true);
    assert.equal(scheduler.reserve(p, e), false, 'the buffer is full');
    scheduler.unreserve(p, e);
    assert.equal(scheduler.reservedTotal, 1);
    assert.equal(scheduler.projectLoad.get(p), 1);
  });

  it('on stop, cancels rate-limit waits and returns every waiting job', () => {
    const { timers, scheduler, add } = setup();
    add(endpoint('ep_r', 'prj_1', { rateLimitPerSecond: 1 }), 3);
    scheduler.pump();
    assert.equal(timers.pending, 1);
    const jobs = scheduler.stop();
    assert.equal(jobs.length, 2);
    assert.equal(timers.pending, 0);
    assert.equal(scheduler.queued, 0);
  });
});
