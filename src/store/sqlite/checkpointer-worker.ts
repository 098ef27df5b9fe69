// The SQLite checkpointer thread (see checkpointer.ts). It never runs its event loop: it loops on
// its own and sleeps in Atomics.wait on the control cells (checkpointer.ts: STOP, COMMITS).

import { parentPort, workerData } from 'node:worker_threads';
import { type CheckpointerSettings, COMMITS, STOP } from './checkpointer.ts';
import { SqliteConnection } from './connection.ts';
import { CHECKPOINTER_HOLDER, WriteLock } from './write-lock.ts';

interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

const { file, lockBuffer, controlBuffer, settings } = workerData as {
  file: string;
  lockBuffer: SharedArrayBuffer;
  controlBuffer: SharedArrayBuffer;
  settings: CheckpointerSettings;
};
const control = new Int32Array(controlBuffer);
const lock = new WriteLock(lockBuffer);
// synchronous=FULL: a checkpoint fsyncs the WAL before it copies and the database file after,
// before it records the frames as copied (what makes restarting the WAL safe).
const connection = new SqliteConnection(file, { synchronous: 'FULL', setWalMode: false });
// This connection never commits, so it never checkpoints by itself; zero says so.
connection.db.pragma('wal_autocheckpoint = 0');
parentPort?.postMessage('ready');

function checkpoint(): CheckpointRow {
  return (
    (connection.db.pragma('wal_checkpoint(PASSIVE)') as CheckpointRow[])[0] ?? {
      busy: 1,
      log: -1,
      checkpointed: -1,
    }
  );
}

let lastLog = -1;
while (Atomics.load(control, STOP) === 0) {
  // Commits counted before the pass: one after it wakes the idle wait below at once.
  const commits = Atomics.load(control, COMMITS);
  let active = false;
  try {
    // Copies every committed frame no reader still needs, beside the writers (PASSIVE takes no
    // lock a writer waits for).
    const pass = checkpoint();
    if (pass.log >= settings.restartFrames && pass.checkpointed >= 0) {
      // Long enough: copy the few frames committed during the pass with the writers held off,
      // so that every frame is in the database file and the next write transaction starts the
      // WAL again from its beginning (SQLite restarts it only then). The writers wait for one
      // short pass, not for a whole checkpoint.
      if (lock.acquireSync(CHECKPOINTER_HOLDER, settings.lockWaitMs)) {
        try {
          checkpoint();
        } finally {
          lock.release(CHECKPOINTER_HOLDER);
        }
      }
    }
    active = pass.log !== lastLog;
    lastLog = pass.log;
  } catch {
    // A busy or failing file: the writers' own autocheckpoint (set high, as a backstop) still
    // bounds the WAL, and the next pass tries again.
  }
  if (active) {
    // Frames keep coming: the next pass after a short sleep, whatever the writers do meanwhile
    // (passes that each copy a little cost more than fewer that copy more).
    Atomics.wait(control, STOP, 0, settings.activeIntervalMs);
  } else {
    // Nothing new: sleep until a writer commits (or a while, for writers of other processes).
    Atomics.wait(control, COMMITS, commits, settings.idleIntervalMs);
  }
}
connection.close();
