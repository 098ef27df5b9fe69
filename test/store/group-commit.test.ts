import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit } from '../../src/store/group-commit.ts';

const turn = () => new Promise<void>((r) => setImmediate(r));

/** A commit the test ends by hand, to hold batches in flight. */
function heldCommits() {
  const batches: number[][] = [];
  const release: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const commit = async (batch: number[]) => {
    batches.push(batch);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise<void>((r) => release.push(r));
    inFlight--;
  };
  const releaseAll = async () => {
    while (release.length > 0) {
      for (const r of release.splice(0)) r();
      await turn();
      await turn();
    }
  };
  return { batches, commit, releaseAll, maxInFlight: () => maxInFlight };
}

describe('group commit', () => {
  it('commits what arrives in one turn as one batch, and what queues meanwhile as the next', async () => {
    const h = heldCommits();
    const g = new GroupCommit<number>({ commit: h.commit });
    for (let i = 0; i < 5; i++) g.add(i);
    assert.equal(h.batches.length, 0, 'nothing before the next turn');
    await turn();
    assert.deepEqual(h.batches, [[0, 1, 2, 3, 4]]);
    g.add(5);
    g.add(6);
    await turn();
    assert.equal(h.batches.length, 1, 'one batch at a time by default');
    await h.releaseAll();
    assert.deepEqual(h.batches, [
      [0, 1, 2, 3, 4],
      [5, 6],
    ]);
    assert.equal(g.busy, false);
  });

  it('splits at maxBatch and keeps at most maxInFlight batches committing', async () => {
    const h = heldCommits();
    const g = new GroupCommit<number>({ commit: h.commit, maxBatch: 2, maxInFlight: 2 });
    for (let i = 0; i < 7; i++) g.add(i);
    await turn();
    assert.deepEqual(h.batches, [
      [0, 1],
      [2, 3],
    ]);
    await h.releaseAll();
    assert.deepEqual(h.batches, [[0, 1], [2, 3], [4, 5], [6]]);
    assert.equal(h.maxInFlight(), 2);
  });

  it('with yieldBetweenBatches, lets what arrives in the next turn join the following batch', async () => {
    const batches: number[][] = [];
    const g = new GroupCommit<number>({
      commit: async (b) => {
        batches.push(b);
      },
      maxBatch: 2,
      yieldBetweenBatches: true,
    });
    for (let i = 0; i < 3; i++) g.add(i);
    await turn();
    // The first batch has committed; item 3 arrives before the yielded turn takes the next batch.
    g.add(3);
    await g.idle();
    assert.deepEqual(batches, [
      [0, 1],
      [2, 3],
    ]);
  });

  it('waits for a gather before taking a batch, so more can join it', async () => {
    const batches: number[][] = [];
    let endGather: (() => void) | null = null;
    const g = new GroupCommit<number>({
      commit: async (b) => {
        batches.push(b);
      },
      gather: (queued) => (queued.length < 3 ? new Promise<void>((r) => (endGather = r)) : null),
    });
    g.add(1);
    await turn();
    g.add(2);
    await turn();
    assert.equal(batches.length, 0, 'still gathering');
    (endGather as unknown as () => void)();
    await g.idle();
    assert.deepEqual(batches, [[1, 2]]);
  });

  it('idle() resolves at once when nothing is queued, and after the last commit otherwise', async () => {
    const h = heldCommits();
    const g = new GroupCommit<number>({ commit: h.commit, onSettled: () => settled++ });
    let settled = 0;
    await g.idle();
    g.add(1);
    let idle = false;
    void g.idle().then(() => {
      idle = true;
    });
    await turn();
    assert.equal(idle, false);
    await h.releaseAll();
    assert.equal(idle, true);
    assert.equal(settled, 1);
  });
});
