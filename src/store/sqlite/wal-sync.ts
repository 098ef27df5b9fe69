import { close as closeFd, fstat, fsync, open, stat } from 'node:fs';
import { promisify } from 'node:util';

const fsyncAsync = promisify(fsync);
const openAsync = promisify(open);
const statAsync = promisify(stat);
const fstatAsync = promisify(fstat);

/**
 * Makes commits durable without blocking the event loop. SQLite runs with synchronous=NORMAL in
 * WAL mode (a commit writes its frames to the -wal file but does not fsync it); before a write is
 * acknowledged we fsync that file on libuv's thread pool. The result is FULL's durability for
 * everything we acknowledge, while the main thread goes on parsing and verifying requests during
 * the flush, and one fsync covers every commit made before it started (group fsync).
 */
export class WalSync {
  private fd: number | null = null;
  private ino = -1;
  private current: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  /** `flushFile` is replaceable so tests can watch the ordering; production fsyncs the WAL file. */
  constructor(
    private readonly walPath: string,
    private readonly flushFile: () => Promise<void> = () => this.fsyncWal(),
  ) {}

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    if (this.next) return this.next;
    if (!this.current) return this.run();
    // The running fsync may have started before the caller's commit: one more, shared by every
    // caller until it starts.
    const after = this.current.then(
      () => undefined,
      () => undefined,
    );
    this.next = after.then(() => {
      this.next = null;
      return this.run();
    });
    return this.next;
  }

  private run(): Promise<void> {
    const p = this.flushFile().finally(() => {
      if (this.current === p) this.current = null;
    });
    this.current = p;
    return p;
  }

  private async fsyncWal(): Promise<void> {
    let st: { ino: number };
    try {
      st = await statAsync(this.walPath);
    } catch {
      return; // no WAL file: nothing has been written since the last checkpoint truncated it
    }
    if (this.fd === null || st.ino !== this.ino) {
      // The WAL was recreated (first write, or after the database was reopened): follow it.
      const fd = await openAsync(this.walPath, 'r');
      this.ino = (await fstatAsync(fd)).ino;
      this.fd = fd;
    }
    await fsyncAsync(this.fd);
  }

  close(): void {
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      closeFd(fd, () => {});
    }
  }
}
