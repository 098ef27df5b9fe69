import { close as closeFd, fdatasync, fdatasyncSync, open, openSync } from 'node:fs';
import { promisify } from 'node:util';

const fdatasyncAsync = promisify(fdatasync);
const openAsync = promisify(open);

/**
 * Makes commits durable without blocking the event loop. SQLite runs with synchronous=NORMAL in
 * WAL mode (a commit writes its frames to the -wal file but does not fsync it); before a write is
 * acknowledged we fsync that file on libuv's thread pool. The result is FULL's durability for
 * everything we acknowledge, while the main thread goes on parsing and verifying requests during
 * the flush, and one fsync covers every commit made before it started (group fsync).
 */
export class WalSync {
  private fd: number | null = null;
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

  /**
   * fdatasync, as SQLite itself syncs on Linux: it flushes the frames and the file size (what a
   * later read needs), not the modification time. The file is opened once: while a connection of
   * ours is open SQLite keeps the WAL (it resets it in place after a checkpoint), so the
   * descriptor stays valid and no stat is needed per flush (each would be one more trip through
   * the thread pool).
   */
  private async fsyncWal(): Promise<void> {
    if (this.fd === null) {
      try {
        this.fd = await openAsync(this.walPath, 'r');
      } catch (err) {
        // No WAL file yet: nothing has been written to flush.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
    }
    await fdatasyncAsync(this.fd);
  }

  /**
   * Flushes the WAL now, blocking the calling thread (for shutdown, where nothing waits on it).
   * No WAL file yet: nothing to flush.
   */
  flushNow(): void {
    if (this.fd === null) {
      try {
        this.fd = openSync(this.walPath, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
    }
    fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      closeFd(fd, () => {});
    }
  }
}
