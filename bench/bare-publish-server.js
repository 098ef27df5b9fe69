// The baseline for the publish-latency benchmark: bare node:http that reads and parses the same
// JSON publish request, answers 202 with a body of the same shape as Hookyard's, and then POSTs
// the message to the receiver (BENCH_RECEIVER_URL) on a keep-alive undici pool, storing nothing
// and signing nothing. Its publish latency is what HTTP and JSON cost on this machine; its
// publish → delivered latency is one relay hop over loopback with no queue in between.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { Agent } from 'undici';

const receiver = new URL(process.env.BENCH_RECEIVER_URL ?? 'http://127.0.0.1:9/');
const agent = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
let n = 0;
const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let message;
    try {
      message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const out = JSON.stringify({
      id: `msg_${randomBytes(8).toString('hex')}`,
      duplicate: false,
      deliveries: 1,
    });
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
    const body = JSON.stringify({
      webhookId: `msg_bare${n++}`,
      eventType: message.eventType,
      payload: message.payload,
    });
    agent
      .request({
        origin: receiver.origin,
        path: receiver.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      .then((r) => r.body.dump())
      .catch(() => {});
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => agent.close().then(() => process.exit(0))));
