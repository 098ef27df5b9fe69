// The floor for the ingest benchmark: what the simplest durable design reaches on this machine.
// It does what bare-ingest-server.js does (read the body, check the GitHub-style HMAC-SHA256 in
// constant time) and also stores every accepted request in SQLite before it answers: WAL,
// synchronous=FULL (COMMIT fsyncs the WAL), one connection in this process, group commit. The
// bare server says what node:http and the HMAC cost; this one adds the least a durable store can
// add, so the Hookyard/bare ratio can be read against what the machine allows (how much of the
// gap to bare is the commit itself, and how much is Hookyard).
// The database goes in BENCH_DATA_DIR (the bench makes it fresh and deletes it afterwards).
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { githubSignatureValid } from './github-signature.js';

// The same choice of build as src/store/sqlite/driver.ts: 12.x aborts on Node.js 24 when a
// statement is garbage-collected, and 13.x crashes on Node.js 20.
const driver = Number(process.versions.node.split('.')[0]) >= 24 ? 'better-sqlite3-napi' : 'better-sqlite3';
const Database = createRequire(import.meta.url)(driver);

const secret = process.env.BENCH_SECRET ?? 'bench-secret';
const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir) throw new Error('BENCH_DATA_DIR is not set');

const db = new Database(path.join(dataDir, 'floor.db'));
// The page size takes effect only while the file is empty, so it comes before WAL mode writes the
// header; 8 KiB as Hookyard's new databases, so the two write the same WAL bytes per event.
db.pragma('page_size = 8192');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`CREATE TABLE IF NOT EXISTS ev (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  headers TEXT NOT NULL,
  body BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  UNIQUE (source, dedupe_key)
)`);
const insert = db.prepare(
  'INSERT INTO ev (id, source, dedupe_key, headers, body, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
);
const insertAll = db.transaction((batch) => {
  for (const r of batch) insert.run(r.id, r.source, r.dedupeKey, r.headers, r.body, r.receivedAt);
});

// Time-ordered ids like Hookyard's, so the primary key index takes appends rather than a write to
// a random page per event (which would make the floor lower than the design needs).
let seq = 0;
const newId = (nowMs) => `${nowMs.toString(36).padStart(9, '0')}${(seq++).toString(36).padStart(8, '0')}`;

// Group commit: every request the event loop parsed in this turn joins one transaction, so one
// fsync covers the batch; under load the batch grows to whatever arrived while the last commit
// blocked the loop.
let queue = [];
function flush() {
  const batch = queue;
  queue = [];
  let status = 200;
  try {
    insertAll(batch);
  } catch (err) {
    process.stderr.write(`commit failed: ${err}\n`);
    status = 503;
  }
  const out = status === 200 ? '{"ok":true}' : '{"ok":false}';
  for (const r of batch) {
    r.res.writeHead(status, { 'content-type': 'application/json', 'content-length': out.length });
    r.res.end(out);
  }
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!githubSignatureValid(secret, body, req.headers['x-hub-signature-256'])) {
      const out = '{"ok":false}';
      res.writeHead(401, { 'content-type': 'application/json', 'content-length': out.length });
      res.end(out);
      return;
    }
    const receivedAt = Date.now();
    const id = newId(receivedAt);
    if (queue.length === 0) setImmediate(flush);
    queue.push({
      res,
      id,
      source: req.url ?? '/',
      // Without a delivery id there is nothing to dedupe on; the event's own id keeps it unique.
      dedupeKey: String(req.headers['x-github-delivery'] ?? id),
      headers: JSON.stringify(req.headers),
      body,
      receivedAt,
    });
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
