// A loopback webhook receiver for bench/delivery-bench.ts, run as a child process so it does not
// share an event loop with what is measured. Answers 204 at once; records, per request, the
// latency from the publish time the sender put in the payload (`sentAt`, ms on the parent's
// clock, corrected by the offset the parent measured). Talks to the parent over IPC.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const now = () => performance.timeOrigin + performance.now();
let count = 0;
let latencies: number[] = [];
let offsetMs = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = now();
    res.writeHead(204).end();
    count++;
    const body = Buffer.concat(chunks).toString('utf8');
    const m = /"sentAt":([0-9.]+)/.exec(body);
    if (m) latencies.push(at - offsetMs - Number(m[1]));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
});

process.on('message', (msg: { type: string; parentNow?: number; offsetMs?: number }) => {
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
    case 'take':
      process.send?.({ type: 'take', count, latencies });
      count = 0;
      latencies = [];
      break;
    case 'exit':
      server.closeAllConnections();
      server.close(() => process.exit(0));
      break;
  }
});
