// The baseline for the ingest benchmark: bare node:http that reads the body, checks the same
// GitHub-style HMAC-SHA256 signature in constant time, and answers 200 without storing anything.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.BENCH_SECRET ?? 'bench-secret';
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
    const given = Buffer.from(String(req.headers['x-hub-signature-256'] ?? ''));
    const ok = given.length === expected.length && timingSafeEqual(given, expected);
    const out = ok ? '{"ok":true}' : '{"ok":false}';
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'content-length': out.length });
    res.end(out);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
