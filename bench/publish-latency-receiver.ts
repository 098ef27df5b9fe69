// The loopback webhook receiver of bench/publish-latency-bench.ts, run as a child process: answers
// 204 at once and records, per message, its arrival time on the parent's clock (this process's
// clock minus the offset the parent measured) by the payload's run tag and index, so the bench
// can pair each delivery with its publish (due time, answer time). Talks to the parent over IPC.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const now = () => performance.timeOrigin + performance.now();
let offsetMs = 0;
let count = 0;
/** Arrival times by run tag, indexed by the payload's `i`. */
let arrivals = new Map<string, number[]>();

const PAYLOAD = /"i":(\d+),"run":"([0-9a-f]+)"/;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = now() - offsetMs;
    res.writeHead(204).end();
    count++;
    const m = PAYLOAD.exec(Buffer.concat(chunks).toString('utf8'));
    if (!m) return;
    let run = arrivals.get(m[2] as string);
    if (!run) {
      run = [];
      arrivals.set(m[2] as string, run);
    }
    // The first arrival counts (a redelivery is not a faster delivery).
    run[Number(m[1])] ??= at;
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
});

process.on('message', (msg: { type: string; offsetMs?: number; run?: string }) => {
  switch (msg.type) {
    case 'clock':
      process.send?.({ type: 'clock', childNow: now() });
      break;
    case 'offset':
      offsetMs = msg.offsetMs ?? 0;
      break;
    case 'count':
      process.send?.({ type: 'count', count });
      break;
    case 'take': {
      const run = arrivals.get(msg.run ?? '') ?? [];
      process.send?.({ type: 'take', count, arrivals: Array.from(run, (v) => v ?? null) });
      count = 0;
      arrivals = new Map();
      break;
    }
    case 'exit':
      server.closeAllConnections();
      server.close(() => process.exit(0));
      break;
  }
});
