import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Exchange, NodeExchange, type RawRoute } from '../../src/http/exchange.ts';
import { type FastHttp, installFastHttp, parseFastHead } from '../../src/http/fast-http.ts';

// The fast path in front of a real node:http server, driven over loopback with raw bytes, so each
// test says exactly what is on the wire. The route echoes what it saw and which front end read
// it (`x-front`): the fast path's exchange or node:http's.

const route: RawRoute = {
  owns: (url) => url.startsWith('/in/'),
  handle: (exchange) => {
    if (exchange.url === '/in/throw') throw new Error('boom');
    void answer(exchange);
  },
};

async function answer(x: Exchange): Promise<void> {
  const front = x instanceof NodeExchange ? 'node' : 'fast';
  if (x.url.startsWith('/in/skip')) {
    // Answers without reading the body.
    x.reply(202, { 'x-front': front }, 'skipped');
    return;
  }
  if (x.url.startsWith('/in/bad-header')) {
    try {
      x.reply(200, { 'x-evil': 'a\r\nset-cookie: b' }, 'never');
    } catch (err) {
      x.reply(500, { 'x-front': front }, `refused: ${(err as Error).message}`);
    }
    return;
  }
  if (x.url.startsWith('/in/slow')) await new Promise((r) => setTimeout(r, 100));
  const read = x.readBody(x.url.startsWith('/in/small') ? 8 : 1024 * 1024);
  let body: Buffer | null;
  try {
    body = read instanceof Promise ? await read : read;
  } catch {
    return;
  }
  if (body === null) {
    x.reply(413, { connection: 'close', 'x-front': front }, 'too large');
    return;
  }
  x.reply(
    200,
    { 'content-type': 'application/json', 'x-front': front },
    JSON.stringify({
      method: x.method,
      url: x.url,
      body: body.toString('latin1'),
      sig: x.headers['x-signature'] ?? null,
      proto:
        Object.getPrototypeOf(x.headers) === null || Object.getPrototypeOf(x.headers) === Object.prototype,
    }),
  );
}

interface Parsed {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads HTTP/1.1 responses (content-length framed) off a raw socket, in order. */
class RawClient {
  private buffer = '';
  private waiting: (() => void) | null = null;
  closed = false;
  readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => {
      this.buffer += d;
      this.waiting?.();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
    this.socket.on('error', () => {});
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  async response(headOnly = false, timeoutMs = 3000): Promise<Parsed> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end !== -1) {
        const lines = this.buffer.slice(0, end).split('\r\n');
        const status = Number((lines[0] as string).split(' ')[1]);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const c = l.indexOf(':');
          headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
        }
        const length = headOnly ? 0 : Number(headers['content-length'] ?? 0);
        if (this.buffer.length >= end + 4 + length) {
          const body = this.buffer.slice(end + 4, end + 4 + length);
          this.buffer = this.buffer.slice(end + 4 + length);
          return { status, headers, body };
        }
      }
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
      if (Date.now() > deadline) throw new Error(`no response; unread: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((r) => {
        this.waiting = r;
        setTimeout(r, 50);
      });
      this.waiting = null;
    }
  }

  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }

  /** Bytes left unread (after the responses taken). */
  get rest(): string {
    return this.buffer;
  }

  end(): void {
    this.socket.destroy();
  }
}

const post = (path: string, body: string, extra = '') =>
  `POST ${path} HTTP/1.1\r\nhost: t\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe('fast HTTP path: parsing a head', () => {
  const routeFor = (url: string) => (url.startsWith('/in/') ? route : undefined);
  const head = (lines: string[]) => parseFastHead(lines.join('\r\n'), routeFor);

  it('takes a plain request: names lower-cased, values trimmed, the length read', () => {
    const h = head(['POST /in/a?x=1 HTTP/1.1', 'Host: t', 'Content-Length: 12', 'X-Signature:  v1,abc= ']);
    assert.ok(h);
    assert.equal(h.method, 'POST');
    assert.equal(h.url, '/in/a?x=1');
    assert.equal(h.contentLength, 12);
    assert.equal(h.headers['x-signature'], 'v1,abc=');
    assert.equal(h.headers.host, 't');
    assert.equal(h.close, false);
    assert.equal(head(['POST /in/a HTTP/1.1', 'host: t', 'connection: close'])?.close, true);
    assert.equal(head(['GET /in/a HTTP/1.1', 'host: t'])?.contentLength, 0);
    assert.equal(head(['POST /in/a HTTP/1.1', 'host: t', 'x-empty:'])?.headers['x-empty'], '');
  });

  it('leaves to node:http every head that is not plain or whose framing could be read two ways', () => {
    const cases: Record<string, string[]> = {
      'chunked body': ['POST /in/a HTTP/1.1', 'host: t', 'transfer-encoding: chunked'],
      'both framings': ['POST /in/a HTTP/1.1', 'host: t', 'content-length: 3', 'transfer-encoding: chunked'],
      'two lengths': ['POST /in/a HTTP/1.1', 'host: t', 'content-length: 3', 'content-length: 4'],
      'signed length': ['POST /in/a HTTP/1.1', 'host: t', 'content-length: +3'],
      'hex length': ['POST /in/a HTTP/1.1', 'host: t', 'content-length: 0x3'],
      'list length': ['POST /in/a HTTP/1.1', 'host: t', 'content-length: 3, 3'],
      'no host': ['POST /in/a HTTP/1.1', 'content-length: 0'],
      'HTTP/1.0': ['POST /in/a HTTP/1.0', 'host: t'],
      'absolute form': ['POST http://t/in/a HTTP/1.1', 'host: t'],
      'unknown method': ['BREW /in/a HTTP/1.1', 'host: t'],
      'lower-case method': ['post /in/a HTTP/1.1', 'host: t'],
      'not a raw route': ['POST /api/v1/projects HTTP/1.1', 'host: t'],
      'space in target': ['POST /in/a b HTTP/1.1', 'host: t'],
      'folded line': ['POST /in/a HTTP/1.1', 'host: t', 'x-a: 1', ' 2'],
      'space before colon': ['POST /in/a HTTP/1.1', 'host : t'],
      'no colon': ['POST /in/a HTTP/1.1', 'host: t', 'x-a'],
      'control byte in value': ['POST /in/a HTTP/1.1', 'host: t', 'x-a: 1\x002'],
      'bare LF in value': ['POST /in/a HTTP/1.1', 'host: t', 'x-a: 1\nx-b: 2'],
      'bare CR in value': ['POST /in/a HTTP/1.1', 'host: t', 'x-a: 1\r2'],
      'repeated name': ['POST /in/a HTTP/1.1', 'host: t', 'x-a: 1', 'X-A: 2'],
      expect: ['POST /in/a HTTP/1.1', 'host: t', 'expect: 100-continue'],
      upgrade: ['GET /in/a HTTP/1.1', 'host: t', 'connection: upgrade', 'upgrade: websocket'],
      'too many lines': [
        'POST /in/a HTTP/1.1',
        'host: t',
        ...Array.from({ length: 120 }, (_, i) => `x-${i}: 1`),
      ],
    };
    for (const [name, lines] of Object.entries(cases)) assert.equal(head(lines), undefined, name);
  });
});

describe('fast HTTP path: on the wire', () => {
  let server: Server;
  let fast: FastHttp;
  let port: number;
  let shuttingDown = false;
  before(async () => {
    server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      if (route.owns(req.url ?? '/')) {
        route.handle(new NodeExchange(req, res));
        return;
      }
      const text = `node ${req.method} ${req.url}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': text.length, 'x-front': 'node' });
      res.end(text);
    });
    fast = installFastHttp(server, {
      routes: [route],
      keepAliveTimeoutMs: 60_000,
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
      sweepMs: 50,
      isShuttingDown: () => shuttingDown,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    fast.closeIdle();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('answers keep-alive requests in order, hands other requests to node:http, and keeps the connection', async () => {
    const c = new RawClient(port);
    c.send(post('/in/a', 'one', 'x-signature: s1\r\n'));
    const r1 = await c.response();
    assert.equal(r1.status, 200);
    assert.equal(r1.headers['x-front'], 'fast');
    assert.equal(r1.headers.connection, 'keep-alive');
    assert.match(r1.headers.date ?? '', /GMT$/);
    assert.deepEqual(JSON.parse(r1.body), {
      method: 'POST',
      url: '/in/a',
      body: 'one',
      sig: 's1',
      proto: true,
    });
    c.send(post('/in/b', 'two'));
    assert.equal(JSON.parse((await c.response()).body).body, 'two');
    // Not a raw route: node:http takes the connection, from the first byte of this request on.
    c.send('GET /health HTTP/1.1\r\nhost: t\r\n\r\n');
    const r3 = await c.response();
    assert.equal(r3.body, 'node GET /health');
    c.send(post('/in/c', 'three'));
    const r4 = await c.response();
    assert.equal(r4.headers['x-front'], 'node');
    assert.equal(JSON.parse(r4.body).body, 'three');
    assert.equal(c.closed, false);
    c.end();
  });

  it('answers pipelined requests in order, with bodies split across packets', async () => {
    const c = new RawClient(port);
    const all = post('/in/1', 'a'.repeat(5000)) + post('/in/2', 'bb') + post('/in/3', '');
    // In three writes that cut through a head and through a body.
    c.send(all.slice(0, 20));
    await new Promise((r) => setTimeout(r, 30));
    c.send(all.slice(20, 3000));
    await new Promise((r) => setTimeout(r, 30));
    c.send(all.slice(3000));
    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push(JSON.parse((await c.response()).body));
    assert.deepEqual(
      bodies.map((b) => [b.url, b.body.length]),
      [
        ['/in/1', 5000],
        ['/in/2', 2],
        ['/in/3', 0],
      ],
    );
    c.end();
  });

  it('answers a long pipeline sent in one write, without nesting a call per request', async () => {
    const c = new RawClient(port);
    const count = 3000;
    let all = '';
    for (let i = 0; i < count; i++) all += `GET /in/skip-${i} HTTP/1.1\r\nhost: t\r\n\r\n`;
    c.send(all);
    for (let i = 0; i < count; i++) assert.equal((await c.response()).status, 202);
    assert.equal(c.closed, false);
    c.end();
  });

  it('leaves chunked bodies and Expect: 100-continue to node:http, which the route serves too', async () => {
    const c = new RawClient(port);
    c.send(
      'POST /in/chunked HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
    );
    const r = await c.response();
    assert.equal(r.headers['x-front'], 'node');
    assert.equal(JSON.parse(r.body).body, 'abcde');
    c.end();

    const e = new RawClient(port);
    e.send('POST /in/expect HTTP/1.1\r\nhost: t\r\ncontent-length: 4\r\nexpect: 100-continue\r\n\r\n');
    const cont = await e.response(true);
    assert.equal(cont.status, 100);
    e.send('body');
    const final = await e.response();
    assert.equal(final.status, 200);
    assert.equal(JSON.parse(final.body).body, 'body');
    e.end();
  });

  it('lets node:http answer a malformed or ambiguous request (400), never the route', async () => {
    const c = new RawClient(port);
    c.send('POST /in/a HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd');
    const r = await c.response();
    assert.equal(r.status, 400);
    assert.ok(await c.closedWithin(1000));
    const d = new RawClient(port);
    d.send(
      'POST /in/a HTTP/1.1\r\nhost: t\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    assert.equal((await d.response()).status, 400);
    d.end();
  });

  it('answers HEAD with headers only, and closes when the client asks', async () => {
    const c = new RawClient(port);
    c.send('HEAD /in/h HTTP/1.1\r\nhost: t\r\n\r\n');
    const r = await c.response(true);
    assert.equal(r.status, 200);
    assert.ok(Number(r.headers['content-length']) > 0);
    c.send(post('/in/after-head', 'x', 'connection: close\r\n'));
    const r2 = await c.response();
    assert.equal(JSON.parse(r2.body).body, 'x');
    assert.equal(r2.headers.connection, 'close');
    assert.ok(await c.closedWithin(1000));
    assert.equal(c.rest, '');
  });

  it('over the route limit: 413 and the connection closes; an unread small body is skipped', async () => {
    const c = new RawClient(port);
    c.send(post('/in/small', 'more than eight bytes'));
    const r = await c.response();
    assert.equal(r.status, 413);
    assert.equal(r.headers.connection, 'close');
    assert.ok(await c.closedWithin(1000));

    const s = new RawClient(port);
    const body = 'z'.repeat(3000);
    s.send(post('/in/skip', body).slice(0, 200));
    const skipped = await s.response();
    assert.equal(skipped.status, 202);
    s.send(post('/in/skip', body).slice(200) + post('/in/next', 'next'));
    assert.equal(JSON.parse((await s.response()).body).body, 'next');
    s.end();

    // Too large to skip: the answer says it closes, and it does.
    const big = new RawClient(port);
    big.send(`POST /in/skip HTTP/1.1\r\nhost: t\r\ncontent-length: ${2 * 1024 * 1024}\r\n\r\nstart`);
    const unread = await big.response();
    assert.equal(unread.status, 202);
    assert.equal(unread.headers.connection, 'close');
    assert.ok(await big.closedWithin(1000));
  });

  it('a route that throws gets a 500 for its request, and the connection goes on', async () => {
    const c = new RawClient(port);
    c.send('GET /in/throw HTTP/1.1\r\nhost: t\r\n\r\n');
    const r = await c.response();
    assert.equal(r.status, 500);
    assert.equal(JSON.parse(r.body).code, 'internal');
    c.send(post('/in/after-throw', 'fine'));
    assert.equal(JSON.parse((await c.response()).body).body, 'fine');
    c.end();
  });

  it('a header named __proto__ is a plain header', async () => {
    const c = new RawClient(port);
    c.send(post('/in/p', 'p', '__proto__: x\r\n'));
    const r = JSON.parse((await c.response()).body);
    assert.equal(r.proto, true);
    c.end();
  });

  it('refuses to write a header with a line break (response splitting), and can still answer', async () => {
    const c = new RawClient(port);
    c.send('GET /in/bad-header HTTP/1.1\r\nhost: t\r\n\r\n');
    const r = await c.response();
    assert.equal(r.status, 500);
    assert.match(r.body, /Invalid header x-evil/);
    assert.equal(r.headers['set-cookie'], undefined);
    assert.equal(c.rest, '');
    c.end();
  });

  it('a head or body that does not arrive in time gets 408 and the connection closes', async () => {
    const c = new RawClient(port);
    c.send('POST /in/slow HTTP/1.1\r\nhost: t\r\n');
    const r = await c.response(false, 2000);
    assert.equal(r.status, 408);
    assert.ok(await c.closedWithin(1000));

    const b = new RawClient(port);
    b.send(post('/in/slow-body', 'x'.repeat(100)).slice(0, -97));
    // A byte every 40 ms: activity does not move the request's deadline.
    const drip = setInterval(() => b.socket.write('x'), 40);
    const rb = await b.response(false, 2000);
    clearInterval(drip);
    assert.equal(rb.status, 408);
  });

  it('a client that goes away mid-body costs nothing and breaks nothing', async () => {
    const c = new RawClient(port);
    c.send(post('/in/gone', 'abcdef').slice(0, -3));
    await new Promise((r) => setTimeout(r, 30));
    c.end();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(fast.connectionCount, 0, 'the half-sent request does not hold its connection open');
    const d = new RawClient(port);
    d.send(post('/in/still', 'ok'));
    assert.equal(JSON.parse((await d.response()).body).body, 'ok');
    d.end();
  });

  it('a pipelined head cut short by the end of the stream is answered 400 after the request before it', async () => {
    const c = new RawClient(port);
    // The first is answered after the end has arrived.
    c.send(`${post('/in/slow', 'ok')}POST /in/second HTTP/1.1\r\nho`);
    c.socket.end();
    const first = await c.response();
    assert.equal(first.status, 200);
    const second = await c.response();
    assert.equal(second.status, 400, 'refused at once, as node:http does, not 408 at the head deadline');
    assert.equal(await c.closedWithin(1000), true);
  });

  it('on shutdown: idle connections close at once, a busy one after its answer', async () => {
    const idle = new RawClient(port);
    idle.send(post('/in/i', 'i'));
    await idle.response();
    const busy = new RawClient(port);
    busy.send(post('/in/busy', 'abcdef').slice(0, -2));
    await new Promise((r) => setTimeout(r, 30));
    shuttingDown = true;
    try {
      fast.closeIdle();
      assert.ok(await idle.closedWithin(1000), 'the idle connection closed');
      assert.equal(busy.closed, false);
      busy.send('ef');
      const r = await busy.response();
      assert.equal(JSON.parse(r.body).body, 'abcdef');
      assert.equal(r.headers.connection, 'close');
      assert.ok(await busy.closedWithin(1000), 'the busy connection closed after its answer');
    } finally {
      shuttingDown = false;
    }
  });
});
