import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { type EgressLookup, parseEgressAllowList } from '../../src/delivery/egress-guard.ts';
import { createDeliveryHttpClient, type DeliveryHttpClient } from '../../src/delivery/http-client.ts';

interface Receiver {
  readonly port: number;
  readonly url: string;
  readonly requests: Array<{
    method: string;
    url: string;
    headers: IncomingMessage['headers'];
    body: string;
  }>;
  readonly sockets: Set<Socket>;
  connectionCount: number;
  close(): Promise<void>;
}

/** A real HTTP receiver on 127.0.0.1, port 0. */
async function startReceiver(
  respond: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<Receiver> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      receiver.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      respond(req, res, body);
    });
  });
  server.on('connection', (socket) => {
    receiver.connectionCount++;
    receiver.sockets.add(socket);
    socket.on('close', () => receiver.sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    port,
    url: `http://127.0.0.1:${port}`,
    requests: [],
    sockets: new Set(),
    connectionCount: 0,
    close: async () => {
      for (const socket of receiver.sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

const LOOPBACK = parseEgressAllowList('127.0.0.0/8');
const clients: DeliveryHttpClient[] = [];
const receivers: Receiver[] = [];

function client(options: Partial<Parameters<typeof createDeliveryHttpClient>[0]> = {}): DeliveryHttpClient {
  const c = createDeliveryHttpClient({ egress: { allow: LOOPBACK }, ...options });
  clients.push(c);
  return c;
}

async function receiver(respond: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await Promise.all(receivers.map((r) => r.close()));
});

const json = { 'content-type': 'application/json' };

describe('delivery HTTP client', () => {
  it('POSTs the exact body and headers and reports a 2xx with an excerpt and response headers', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-receiver': 'yes' });
      res.end('accepted ✓');
    });
    const body = '{"type":"invoice.paid","note":"café"}';
    const result = await client().post(`${r.url}/hooks/in?x=1`, { ...json, 'Webhook-Id': 'msg_1' }, body, {
      timeoutMs: 5_000,
    });
    assert.equal(result.ok, true);
    assert.equal(result.statusCode, 200);
    assert.equal(result.bodyExcerpt, 'accepted ✓');
    assert.equal(result.responseHeaders?.['x-receiver'], 'yes');
    assert.equal(result.errorKind, undefined);
    assert.ok(result.durationMs >= 0 && result.durationMs < 5_000);
    const [request] = r.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.url, '/hooks/in?x=1');
    assert.equal(request?.body, body);
    assert.equal(request?.headers['webhook-id'], 'msg_1');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.match(String(request?.headers['user-agent']), /^Hookyard/);
  });

  it('reports non-2xx statuses as not ok, with the body excerpt', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    const result = await client().post(r.url, json, '{}', { timeoutMs: 5_000 });
    assert.deepEqual(
      [result.ok, result.statusCode, result.bodyExcerpt, result.errorKind],
      [false, 500, 'boom', undefined],
    );
  });

  it('keeps connections alive per origin', async () => {
    const r = await receiver((_req, res) => res.end('ok'));
    const c = client();
    for (let i = 0; i < 10; i++)
      assert.equal((await c.post(r.url, json, '{}', { timeoutMs: 5_000 })).ok, true);
    // undici's pool may open a second connection while the first is finishing its response (it
    // does so without our connector too); what matters is that connections are reused.
    assert.ok(r.connectionCount <= 2, `${r.connectionCount} connections for 10 requests`);
  });

  it('bounds a receiver that never answers by the total timeout', async () => {
    const r = await receiver(() => {
      /* never responds */
    });
    const started = performance.now();
    const result = await client().post(r.url, json, '{}', { timeoutMs: 300 });
    const elapsedMs = performance.now() - started;
    assert.equal(result.ok, false);
    assert.equal(result.errorKind, 'timeout');
    assert.equal(result.statusCode, undefined);
    assert.match(result.errorMessage ?? '', /within 300 ms/);
    assert.ok(elapsedMs >= 250 && elapsedMs < 2_000, `took ${elapsedMs} ms`);
  });

  it('counts the body in the timeout: a dripping body times out with its status kept', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(timer));
    });
    const started = performance.now();
    const result = await client().post(r.url, json, '{}', { timeoutMs: 400 });
    assert.ok(performance.now() - started < 2_000);
    assert.deepEqual([result.ok, result.errorKind, result.statusCode], [false, 'timeout', 200]);
  });

  it('reports connection refused on a closed port', async () => {
    const r = await startReceiver(() => undefined);
    const url = r.url;
    await r.close();
    const result = await client().post(url, json, '{}', { timeoutMs: 5_000 });
    assert.deepEqual([result.ok, result.errorKind], [false, 'connection_refused']);
    assert.match(result.errorMessage ?? '', /ECONNREFUSED/);
  });

  it('reports connection reset when the receiver destroys the socket', async () => {
    const r = await receiver((req) => req.socket.destroy());
    const result = await client().post(r.url, json, '{}', { timeoutMs: 5_000 });
    assert.deepEqual([result.ok, result.errorKind], [false, 'connection_reset']);

    // A raw TCP receiver that resets as soon as the request arrives.
    const raw = createNetServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const { port } = raw.address() as AddressInfo;
    try {
      const reset = await client().post(`http://127.0.0.1:${port}/`, json, '{}', { timeoutMs: 5_000 });
      assert.deepEqual([reset.ok, reset.errorKind], [false, 'connection_reset']);
    } finally {
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it('caps a huge response body: reads at most the limit, keeps a 4 KiB excerpt, still reports the status', async () => {
    let writtenBytes = 0;
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      // Write up to 256 MiB, as fast as the client drains; it must stop us long before that.
      const pump = (): void => {
        while (writtenBytes < 256 * 1024 * 1024) {
          writtenBytes += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    const started = performance.now();
    const result = await client().post(r.url, json, '{}', { timeoutMs: 10_000 });
    assert.ok(performance.now() - started < 5_000);
    assert.equal(result.ok, true);
    assert.equal(result.statusCode, 200);
    assert.equal(result.bodyTruncated, true);
    assert.equal(result.bodyExcerpt?.length, 4_096);
    assert.match(result.bodyExcerpt ?? '', /^a+$/);
    assert.ok(writtenBytes < 64 * 1024 * 1024, `receiver managed to write ${writtenBytes} bytes`);
  });

  it('cuts the excerpt at a character boundary', async () => {
    const r = await receiver((_req, res) => res.end(`${'a'.repeat(4_095)}é and more`));
    const result = await client().post(r.url, json, '{}', { timeoutMs: 5_000 });
    assert.equal(result.bodyExcerpt, 'a'.repeat(4_095), 'the split "é" is dropped, not mangled');
    assert.equal(result.bodyTruncated, undefined);
  });

  it('does not follow redirects', async () => {
    const r = await receiver((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/elsewhere' });
        res.end();
      } else {
        res.end('should not be reached');
      }
    });
    const result = await client().post(`${r.url}/moved`, json, '{}', { timeoutMs: 5_000 });
    assert.deepEqual([result.ok, result.statusCode], [false, 302]);
    assert.equal(result.responseHeaders?.location, '/elsewhere');
    assert.deepEqual(
      r.requests.map((q) => q.url),
      ['/moved'],
    );
  });

  it('reports oversized response headers as too_large', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'x-big': 'b'.repeat(32 * 1024) });
      res.end();
    });
    const result = await client().post(r.url, json, '{}', { timeoutMs: 5_000 });
    assert.deepEqual([result.ok, result.errorKind], [false, 'too_large']);
  });

  it('refuses invalid URLs before any I/O', async () => {
    for (const url of ['ftp://127.0.0.1/', 'not a url', 'http://u:p@127.0.0.1/']) {
      const result = await client().post(url, json, '{}', { timeoutMs: 5_000 });
      assert.deepEqual([result.ok, result.errorKind], [false, 'invalid_url'], url);
    }
  });
});

describe('delivery HTTP client behind the egress guard', () => {
  /** Records every client socket Node creates while `fn` runs. */
  async function socketsOpenedDuring(fn: () => Promise<unknown>): Promise<number> {
    let opened = 0;
    const onSocket = (): void => {
      opened++;
    };
    diagnosticsChannel.subscribe('net.client.socket', onSocket);
    try {
      await fn();
    } finally {
      diagnosticsChannel.unsubscribe('net.client.socket', onSocket);
    }
    return opened;
  }

  it('refuses 127.0.0.1 when not allow-listed, without connecting', async () => {
    const r = await receiver((_req, res) => res.end('ok'));
    const guarded = client({ egress: {} });
    let result: Awaited<ReturnType<DeliveryHttpClient['post']>> | undefined;
    const opened = await socketsOpenedDuring(async () => {
      result = await guarded.post(r.url, json, '{}', { timeoutMs: 5_000 });
    });
    assert.equal(result?.ok, false);
    assert.equal(result?.errorKind, 'egress_blocked');
    assert.match(result?.errorMessage ?? '', /egress to 127\.0\.0\.1 is blocked: loopback/);
    assert.equal(opened, 0);
    assert.equal(r.connectionCount, 0);
  });

  it('allows 127.0.0.1 when allow-listed', async () => {
    const r = await receiver((_req, res) => res.end('ok'));
    const result = await client({ egress: { allow: parseEgressAllowList('127.0.0.1/32') } }).post(
      r.url,
      json,
      '{}',
      {
        timeoutMs: 5_000,
      },
    );
    assert.deepEqual([result.ok, result.statusCode], [true, 200]);
  });

  it('refuses IPv4-mapped IPv6 literals of loopback', async () => {
    const r = await receiver((_req, res) => res.end('ok'));
    const guarded = client({ egress: {} });
    for (const host of ['[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:ffff:127.0.0.1]', '[::1]']) {
      const result = await guarded.post(`http://${host}:${r.port}/`, json, '{}', { timeoutMs: 5_000 });
      assert.equal(result.errorKind, 'egress_blocked', host);
    }
    assert.equal(r.connectionCount, 0);
  });

  it('refuses a name that resolves to 10.0.0.1 at connect time, opening no socket at all', async () => {
    const lookups: string[] = [];
    const lookup: EgressLookup = async (hostname) => {
      lookups.push(hostname);
      return [{ address: '10.0.0.1' }];
    };
    const guarded = client({ egress: { allow: LOOPBACK, lookup } });
    let result: Awaited<ReturnType<DeliveryHttpClient['post']>> | undefined;
    const opened = await socketsOpenedDuring(async () => {
      result = await guarded.post('http://rebind.test:8080/hook', json, '{}', { timeoutMs: 5_000 });
    });
    assert.deepEqual(lookups, ['rebind.test']);
    assert.equal(result?.errorKind, 'egress_blocked');
    assert.match(
      result?.errorMessage ?? '',
      /10\.0\.0\.1 \(resolved from rebind\.test\) is blocked: private/,
    );
    assert.equal(opened, 0, 'no socket was created, so nothing was sent toward 10.0.0.1');
  });

  it('rebinding: a name that first resolved to loopback (allowed) and then to 10.0.0.1 is refused on the next connect', async () => {
    const r = await receiver((_req, res) => res.end('ok'));
    let answer = '127.0.0.1';
    const lookup: EgressLookup = async () => [{ address: answer }];
    const guarded = client({ egress: { allow: LOOPBACK, lookup }, keepAliveTimeoutMs: 1 });
    const first = await guarded.post(`http://receiver.test:${r.port}/`, json, '{}', { timeoutMs: 5_000 });
    assert.deepEqual([first.ok, r.requests[0]?.headers.host], [true, `receiver.test:${r.port}`]);
    // Let the pooled connection expire so the next request must connect again.
    for (const socket of r.sockets) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    answer = '10.0.0.1';
    const second = await guarded.post(`http://receiver.test:${r.port}/`, json, '{}', { timeoutMs: 5_000 });
    assert.equal(second.errorKind, 'egress_blocked');
    assert.equal(r.requests.length, 1);
  });

  it('bounds a resolver that never answers by the total timeout', async () => {
    const lookup: EgressLookup = () => new Promise(() => undefined);
    const started = performance.now();
    const c = client({ egress: { lookup, lookupTimeoutMs: 400 } });
    const result = await c.post('http://slow-dns.test/', json, '{}', { timeoutMs: 200 });
    assert.ok(performance.now() - started < 2_000);
    assert.deepEqual([result.ok, result.errorKind], [false, 'timeout']);
    // The lookup's own limit frees the origin's connection slot: a later attempt with more time
    // than the lookup limit gets a dns failure instead of queueing behind the hung lookup forever.
    const later = await c.post('http://slow-dns.test/', json, '{}', { timeoutMs: 2_000 });
    assert.deepEqual([later.ok, later.errorKind], [false, 'dns']);
    assert.match(later.errorMessage ?? '', /timed out after 400 ms/);
  });

  it('reports resolver failures as dns', async () => {
    const lookup: EgressLookup = async (hostname) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    };
    const result = await client({ egress: { lookup } }).post('http://nope.invalid/', json, '{}', {
      timeoutMs: 5_000,
    });
    assert.deepEqual([result.ok, result.errorKind], [false, 'dns']);
    assert.match(result.errorMessage ?? '', /ENOTFOUND nope\.invalid/);
  });
});
