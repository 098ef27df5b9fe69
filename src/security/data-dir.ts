import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The data directory holds the master key and, with SQLite, the database (sealed secrets, event
 * bodies): only the user running Hookyard may read it. It is created 0700 and its files 0600,
 * whatever the umask; on start, an existing directory made looser (by an older version, a copy,
 * a restore) is tightened, and what changed is reported for the log.
 */
export const DATA_DIR_MODE = 0o700;
export const DATA_FILE_MODE = 0o600;

/** Hookyard's own files in the data directory; other files are left as they are. */
const OWN_FILE = /^(master\.key|hookyard\.db(-wal|-shm|-journal)?)$/;

export interface ModeChange {
  path: string;
  fromMode: number;
  toMode: number;
}

/** Creates the directory (and missing parents) 0700. */
export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
}

/** Creates `file` empty and 0600 when it does not exist yet (an existing file keeps its mode). */
export function createPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', DATA_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Tightens an existing data directory and Hookyard's files in it; returns what was changed. */
export function secureDataDir(dir: string): ModeChange[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch {
    return [];
  }
  if (!stat.isDirectory()) return [];
  const changes: ModeChange[] = [];
  const tighten = (file: string, mode: number, want: number) => {
    if ((mode & 0o077) === 0) return;
    const toMode = mode & want;
    chmodSync(file, toMode);
    changes.push({ path: file, fromMode: mode, toMode });
  };
  tighten(dir, stat.mode & 0o777, DATA_DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || !OWN_FILE.test(entry.name)) continue;
    const file = path.join(dir, entry.name);
    tighten(file, statSync(file).mode & 0o777, DATA_FILE_MODE);
  }
  return changes;
}
