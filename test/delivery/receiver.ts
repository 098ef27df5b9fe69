import assert from 'node:assert/strict';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a test receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() when the body had arrived. */
  atMs: number;
}

/** What the receiver does with a request: answer, hang, or reset the connection. */
export type ReceiverAction =
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  | { hang: true }
  | { reset: true };

export interface TestReceiver {
  url: string;
  received: Received[];
  /** Requests being handled right now, and the most there ever were at once. */
  concurrent: () => { now: number; max: number };
  /** Sets how the next requests are answered (first the queued actions, then the default). */
  respond(...actions: ReceiverAction[]): void;
  /** Chooses the answer per request (before the queued actions); undefined falls through. */
  decide(fn: (r: Received) => ReceiverAction | undefined): void;
  setDefault(action: ReceiverAction): void;
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** A real HTTP receiver on a loopback port. */
export async function startReceiver(onRequest?: (r: Received) => void): Promise<TestReceiver> {
  const received: Received[] = [];
  const queue: ReceiverAction[] = [];
  let fallback: ReceiverAction = { status: 200, body: 'ok' };
  let decider: ((r: Received) => ReceiverAction | undefined) | undefined;
  let now = 0;
  let max = 0;
  const hanging = new Set<ServerResponse>();
  const waiters: Array<() => void> = [];

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        atMs: performance.now(),
      };
      received.push(r);
      onRequest?.(r);
      for (const w of waiters.splice(0)) w();
      const action = decider?.(r) ?? queue.shift() ?? fallback;
      now++;
      max = Math.max(max, now);
      const done = () => {
        now--;
      };
      if ('reset' in action) {
        done();
        req.socket.destroy();
        return;
      }
      if ('hang' in action) {
        hanging.add(res);
        res.on('close', () => {
          hanging.delete(res);
          done();
        });
        return;
      }
      const answer = () => {
        res.writeHead(action.status, { 'content-type': 'text/plain', ...(action.headers ?? {}) });
        res.end(action.body ?? '');
        done();
      };
      if (action.delayMs) setTimeout(answer, action.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    concurrent: () => ({ now, max }),
    respond: (...actions) => {
      queue.push(...actions);
    },
    decide: (fn) => {
      decider = fn;
    },
    setDefault: (action) => {
      fallback = action;
    },
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`receiver got ${received.length} requests, expected ${count}`);
        }
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return received;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Asserts that `got` (all sent to one endpoint) kept to `ratePerSecond` with a burst of one second
 * of rate: all of them took at least the time the rest needed after the burst (less 300 ms: arrivals
 * are timed on the receiver's event loop, which a busy machine can hold up for a few hundred ms, so
 * a late first arrival shortens the span), and no one-second window held more than the burst and a
 * second of rate.
 */
export function assertRateLimited(got: readonly Received[], ratePerSecond: number): void {
  const times = got.map((x) => x.atMs).sort((a, b) => a - b);
  const span = (times[times.length - 1] ?? 0) - (times[0] ?? 0);
  const leastMs = ((times.length - ratePerSecond) / ratePerSecond) * 1000 - 300;
  assert.ok(span >= leastMs, `${times.length} took ${Math.round(span)} ms, under ${leastMs} ms`);
  for (const start of times) {
    const inWindow = times.filter((t) => t >= start && t < start + 1000).length;
    assert.ok(inWindow <= 2 * ratePerSecond, `${inWindow} requests within one second`);
  }
}
