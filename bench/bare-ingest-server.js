// The baseline for the ingest benchmark: bare node:http that reads the body, checks the same
// GitHub-style HMAC-SHA256 signature in constant time, and answers 200 without storing anything.
import { createServer } from 'node:http';
import { githubSignatureValid } from './github-signature.js';

const secret = process.env.BENCH_SECRET ?? 'bench-secret';
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const ok = githubSignatureValid(secret, body, req.headers['x-hub-signature-256']);
    const out = ok ? '{"ok":true}' : '{"ok":false}';
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'content-length': out.length });
    res.end(out);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
