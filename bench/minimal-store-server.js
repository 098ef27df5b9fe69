// The floor for the ingest benchmark: what the simplest durable design reaches on this machine.
// It does what bare-ingest-server.js does (read the body, check the GitHub-style HMAC-SHA256 in
// constant time) and also stores every accepted request in SQLite before it answers: WAL,
// synchronous=FULL (COMMIT fsyncs the WAL), group commit, a six-column row. The bare server says
// what node:http and the HMAC cost; this one adds the least a durable store can add, so the
// Hookyard/bare ratio can be read against what the machine allows (how much of the gap to bare is
// the commit itself, and how much is Hookyard).
//
// Two shapes, chosen by BENCH_FLOOR_WRITER:
// - `loop` (default): one connection on the event loop; a batch commits while the loop waits.
// - `thread`: Hookyard's shape. The connection lives on a worker thread (this same file), the event
//   loop posts each batch's rows to it and answers when it replies, with at most two batches in
//   flight (what Hookyard's group committer allows on SQLite), so the loop parses the next
//   requests while a batch commits.
// BENCH_FLOOR_HTTP picks what reads the requests: `node` (default) is node:http; `fast` is
// Hookyard's own fast HTTP path (src/http/fast-http.ts, in front of node:http as in Hookyard),
// so the floor has the shape of Hookyard's ingest. `fast` needs `node --import tsx`.
// The database goes in BENCH_DATA_DIR (the bench makes it fresh and deletes it afterwards).
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { githubSignatureValid } from './github-signature.js';

/** Opens the floor's database and returns a function that commits one batch of rows. */
function openFloorStore(file) {
  // The same choice of build as src/store/sqlite/driver.ts: 12.x aborts on Node.js 24 when a
  // statement is garbage-collected, and 13.x crashes on Node.js 20.
  const driver = Number(process.versions.node.split('.')[0]) >= 24 ? 'better-sqlite3-napi' : 'better-sqlite3';
  const Database = createRequire(import.meta.url)(driver);
  const db = new Database(file);
  // The page size takes effect only while the file is empty, so it comes before WAL mode writes
  // the header; 8 KiB as Hookyard's new databases, so the two write the same WAL bytes per event.
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
  // Rows are arrays in column order; a body that crossed from another thread is a Uint8Array.
  return db.transaction((rows) => {
    for (const r of rows)
      insert.run(r[0], r[1], r[2], r[3], Buffer.from(r[4].buffer, r[4].byteOffset, r[4].length), r[5]);
  });
}

if (!isMainThread) {
  // The writer thread of the `thread` shape: commit each batch, then say so.
  const commit = openFloorStore(workerData.file);
  parentPort.on('message', ({ id, rows }) => {
    let ok = true;
    try {
      commit(rows);
    } catch (err) {
      process.stderr.write(`commit failed: ${err}\n`);
      ok = false;
    }
    parentPort.postMessage({ id, ok });
  });
} else {
  const secret = process.env.BENCH_SECRET ?? 'bench-secret';
  const dataDir = process.env.BENCH_DATA_DIR;
  if (!dataDir) throw new Error('BENCH_DATA_DIR is not set');
  const file = path.join(dataDir, 'floor.db');
  const shape = process.env.BENCH_FLOOR_WRITER ?? 'loop';
  if (shape !== 'loop' && shape !== 'thread') throw new Error('BENCH_FLOOR_WRITER is loop or thread');
  const http = process.env.BENCH_FLOOR_HTTP ?? 'node';
  if (http !== 'node' && http !== 'fast') throw new Error('BENCH_FLOOR_HTTP is node or fast');

  const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json' });
  // A response is node:http's ServerResponse, or the fast path's exchange (which has `reply`).
  const answer = (responses, ok, failStatus = 503) => {
    const out = ok ? '{"ok":true}' : '{"ok":false}';
    const status = ok ? 200 : failStatus;
    for (const res of responses) {
      if (res.reply) {
        res.reply(status, JSON_HEADERS, out);
        continue;
      }
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': out.length });
      res.end(out);
    }
  };

  // Group commit: every request parsed while no batch can start joins the next one, so one fsync
  // covers the batch; under load the batch grows to whatever arrived during the last commit.
  let queue = [];
  let submit;
  if (shape === 'loop') {
    const commit = openFloorStore(file);
    submit = () => {
      const batch = queue;
      queue = [];
      let ok = true;
      try {
        commit(batch.map((b) => b.row));
      } catch (err) {
        process.stderr.write(`commit failed: ${err}\n`);
        ok = false;
      }
      answer(
        batch.map((b) => b.res),
        ok,
      );
    };
  } else {
    const MAX_IN_FLIGHT = 2;
    const worker = new Worker(new URL(import.meta.url), { workerData: { file } });
    const waiting = new Map();
    let nextId = 1;
    let inFlight = 0;
    worker.on('message', ({ id, ok }) => {
      const responses = waiting.get(id);
      waiting.delete(id);
      inFlight--;
      answer(responses, ok);
      if (queue.length > 0 && inFlight < MAX_IN_FLIGHT) setImmediate(submit);
    });
    submit = () => {
      while (queue.length > 0 && inFlight < MAX_IN_FLIGHT) {
        const batch = queue;
        queue = [];
        const id = nextId++;
        waiting.set(
          id,
          batch.map((b) => b.res),
        );
        inFlight++;
        worker.postMessage({ id, rows: batch.map((b) => b.row) });
      }
    };
  }

  // Time-ordered ids like Hookyard's, so the primary key index takes appends rather than a write
  // to a random page per event (which would make the floor lower than the design needs).
  let seq = 0;
  const newId = (nowMs) => `${nowMs.toString(36).padStart(9, '0')}${(seq++).toString(36).padStart(8, '0')}`;

  /** Verifies, then queues the request's row for the next batch (`res` answers it). */
  const accept = (url, headers, body, res) => {
    if (!githubSignatureValid(secret, body, headers['x-hub-signature-256'])) {
      answer([res], false, 401);
      return;
    }
    const receivedAt = Date.now();
    const id = newId(receivedAt);
    if (queue.length === 0) setImmediate(submit);
    queue.push({
      res,
      // Without a delivery id there is nothing to dedupe on; the event's own id keeps it unique.
      row: [id, url, String(headers['x-github-delivery'] ?? id), JSON.stringify(headers), body, receivedAt],
    });
  };

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => accept(req.url ?? '/', req.headers, Buffer.concat(chunks), res));
  });
  if (http === 'fast') {
    const { installFastHttp } = await import('../src/http/fast-http.ts');
    const route = {
      owns: () => true,
      handle: async (exchange) => {
        const read = exchange.readBody(1024 * 1024);
        const body = read instanceof Promise ? await read : read;
        if (body === null) exchange.reply(413, JSON_HEADERS, '{"ok":false}');
        else accept(exchange.url, exchange.headers, body, exchange);
      },
    };
    installFastHttp(server, { routes: [route], keepAliveTimeoutMs: 65_000 });
  }
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
