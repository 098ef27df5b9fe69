import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';

// The same raw requests, byte for byte, to the ingest route of two servers: one with the fast
// HTTP path in front, one with node:http alone. The docs promise the same answers; this compares
// what a client can see of them: the statuses in order, how each answer is framed, and whether the
// connection is closed after them. Bodies (event ids) are not compared.

interface Shape {
  name: string;
  /** The bytes to send; `{src}` is replaced by the source id of the server. */
  send: string;
  /** Half-close the connection (FIN) after sending. */
  endAfter?: boolean;
}

const SRC = '/in/{src}';
const shapes: Shape[] = [
  { name: 'plain request', send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}` },
  { name: 'no body', send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\n\r\n` },
  { name: 'bare-LF line endings', send: `POST ${SRC} HTTP/1.1\nHost: t\nContent-Length: 2\n\n{}` },
  { name: 'bare LF in one line', send: `POST ${SRC} HTTP/1.1\r\nHost: t\nContent-Length: 2\r\n\r\n{}` },
  { name: 'bare-LF head not yet complete', send: `POST ${SRC} HTTP/1.1\nHost: t\n` },
  { name: 'bare CR', send: `POST ${SRC} HTTP/1.1\rHost: t\r\nContent-Length: 2\r\n\r\n{}` },
  {
    name: 'body shorter than Content-Length, then close',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n{}`,
    endAfter: true,
  },
  {
    name: 'head cut short, then close',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Le`,
    endAfter: true,
  },
  {
    name: 'chunked body',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
  },
  {
    name: 'chunked and Content-Length',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
  },
  {
    name: 'duplicate Content-Length, different',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x`,
  },
  {
    name: 'duplicate Content-Length, same',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}`,
  },
  {
    name: 'Content-Length not digits',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: 2x\r\n\r\n{}`,
  },
  {
    name: 'negative Content-Length',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: -2\r\n\r\n{}`,
  },
  {
    name: 'oversized head',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 2\r\n\r\n{}`,
  },
  {
    name: 'pipelined requests',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\n{"a":1}GET ${SRC} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`,
  },
  {
    name: 'Expect: 100-continue',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}`,
  },
  {
    name: 'Connection: close',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}`,
  },
  { name: 'HTTP/1.0', send: `POST ${SRC} HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}` },
  { name: 'HTTP/1.1 without Host', send: `POST ${SRC} HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}` },
  { name: 'space before the colon', send: `POST ${SRC} HTTP/1.1\r\nHost : t\r\nContent-Length: 2\r\n\r\n{}` },
  {
    name: 'obsolete line folding',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\n{}`,
  },
  {
    name: 'NUL in a header value',
    send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nX-A: a\u0000b\r\nContent-Length: 2\r\n\r\n{}`,
  },
  { name: 'garbage request line', send: 'GARBAGE\r\n\r\n' },
  { name: 'HEAD', send: `HEAD ${SRC} HTTP/1.1\r\nHost: t\r\n\r\n` },
  { name: 'unknown method', send: `PROPFIND ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}` },
  { name: 'unknown source', send: 'POST /in/src_nope HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}' },
];

interface Observed {
  /** Per answer: status and framing (`length` with content-length, `chunked`, `none`). */
  answers: string[];
  closed: boolean;
}

/** Sends the bytes on a fresh connection; reads answers until the server closes or goes quiet. */
function exchange(port: number, shape: Shape, src: string, quietMs = 700): Promise<Observed> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let raw = Buffer.alloc(0);
    let quiet: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      socket.destroy();
      resolve({ answers: parseAnswers(raw.toString('latin1'), shape.send.startsWith('HEAD')), closed });
    };
    const arm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(() => finish(false), quietMs);
    };
    socket.on('data', (d: Buffer) => {
      raw = Buffer.concat([raw, d]);
      arm();
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      socket.write(shape.send.replaceAll('{src}', src), 'latin1');
      if (shape.endAfter) socket.end();
      arm();
    });
  });
}

function parseAnswers(text: string, head: boolean): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) {
      out.push(`unparsable: ${JSON.stringify(rest.slice(0, 80))}`);
      break;
    }
    const lines = rest.slice(0, end).split('\r\n');
    const status = Number((lines[0] as string).split(' ')[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    rest = rest.slice(end + 4);
    if (status === 100) {
      out.push('100');
      continue;
    }
    const length = headers.get('content-length');
    if (length !== undefined) {
      out.push(`${status} length`);
      if (!head) rest = rest.slice(Number(length));
    } else if (headers.get('transfer-encoding') === 'chunked') {
      out.push(`${status} chunked`);
      const last = rest.indexOf('0\r\n\r\n');
      rest = last === -1 ? '' : rest.slice(last + 5);
    } else {
      out.push(`${status} none`);
      rest = '';
    }
  }
  return out;
}

describe('fast HTTP path and node:http answer the same raw requests alike', () => {
  const servers: Array<{ t: TestHookyard; src: string; port: number }> = [];
  before(async () => {
    for (const fastHttp of ['true', 'false']) {
      const t = await startTestHookyard('sqlite', { fastHttp });
      const projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
      const src = (
        await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
          body: { name: 's', verification: { type: 'none' } },
        })
      ).body.id as string;
      servers.push({ t, src, port: Number(new URL(t.url).port) });
    }
  });
  after(async () => {
    for (const s of servers) await s.t.cleanup();
  });

  it('gives the same statuses, framing and connection state for every shape', async () => {
    const [fast, node] = servers as [(typeof servers)[0], (typeof servers)[0]];
    const results = await Promise.all(
      shapes.map(async (shape) => ({
        shape: shape.name,
        fast: await exchange(fast.port, shape, fast.src),
        node: await exchange(node.port, shape, node.src),
      })),
    );
    const differing = results.filter((r) => JSON.stringify(r.fast) !== JSON.stringify(r.node));
    assert.deepEqual(differing, [], 'every shape is answered alike');
    // The comparison would pass with two broken servers; a few anchors say they are not.
    const by = (name: string) => results.find((r) => r.shape === name)?.node;
    assert.deepEqual(by('plain request'), { answers: ['200 length'], closed: false });
    assert.deepEqual(by('pipelined requests')?.answers, ['200 length', '200 length', '200 length']);
    assert.equal(by('bare-LF line endings')?.answers[0], '400 length');
    assert.equal(by('body shorter than Content-Length, then close')?.answers[0], '400 length');
  });

  it('a malformed request pipelined after a good one: the same refusal, and the good one answered', async () => {
    // node:http parses both from one packet, and its parser's error on the second closes the
    // connection before the first is answered (the first may still be stored). The fast path
    // answers the first, then hands the second to node:http, which refuses it the same way.
    const shape: Shape = {
      name: 'pipelined after a malformed one',
      send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}POST ${SRC} HTTP/1.1\r\nHost : t\r\n\r\n`,
    };
    const [fast, node] = servers as [(typeof servers)[0], (typeof servers)[0]];
    assert.deepEqual(await exchange(fast.port, shape, fast.src), {
      answers: ['200 length', '400 length'],
      closed: true,
    });
    assert.deepEqual(await exchange(node.port, shape, node.src), { answers: ['400 length'], closed: true });
  });

  it('whole requests followed by the end of the stream: the fast path answers them, node:http does not', async () => {
    // node:http (httpAllowHalfOpen false) ends its side as soon as the client's FIN arrives, so
    // the answers to requests already read are lost (the events are stored; the client retries and
    // is deduplicated). The fast path answers every request it read, then closes.
    const [fast, node] = servers as [(typeof servers)[0], (typeof servers)[0]];
    const one: Shape = {
      name: 'whole request, then close',
      send: `POST ${SRC} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}`,
      endAfter: true,
    };
    const two: Shape = { ...one, name: 'two pipelined, then close', send: one.send + one.send };
    assert.deepEqual(await exchange(fast.port, one, fast.src), { answers: ['200 length'], closed: true });
    assert.deepEqual(await exchange(fast.port, two, fast.src), {
      answers: ['200 length', '200 length'],
      closed: true,
    });
    assert.deepEqual(await exchange(node.port, one, node.src), { answers: [], closed: true });
  });
});
