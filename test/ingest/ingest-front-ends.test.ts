import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';

// The ingest route behind both HTTP front ends of a real Hookyard (SQLite; the front ends do not
// touch the store): the fast path, which takes plain requests, and node:http, which takes every
// request the fast path hands over and all of them with HOOKYARD_FAST_HTTP=false. The same
// request must be stored the same way by either.

const secret = 'front-end-secret';
const sig = (body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Sends raw bytes on one connection and reads `count` responses (content-length or chunked). */
async function exchange(
  port: number,
  writes: string[],
  count: number,
): Promise<{ status: number; body: string }[]> {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  let buffer = '';
  const out: { status: number; body: string }[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out; got ${JSON.stringify(out)} and ${JSON.stringify(buffer)}`));
    }, 5000);
    const parse = () => {
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffer.slice(0, end).toLowerCase();
        const status = Number(head.split(' ')[1]);
        const length = /content-length: (\d+)/.exec(head);
        let body: string;
        let rest: string;
        if (length) {
          const n = Number(length[1]);
          if (buffer.length < end + 4 + n) return;
          body = buffer.slice(end + 4, end + 4 + n);
          rest = buffer.slice(end + 4 + n);
        } else {
          const last = buffer.indexOf('\r\n0\r\n\r\n', end);
          if (last === -1) return;
          body = buffer.slice(end + 4, last).replace(/(^|\r\n)[0-9a-f]+\r\n/g, '');
          rest = buffer.slice(last + 7);
        }
        out.push({ status, body });
        buffer = rest;
        if (out.length === count) {
          clearTimeout(timer);
          socket.destroy();
          resolve(out);
          return;
        }
      }
    };
    socket.on('data', (d: string) => {
      buffer += d;
      parse();
    });
    socket.on('error', reject);
    (async () => {
      for (const w of writes) {
        socket.write(w);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
  });
}

for (const fastHttp of ['true', 'false']) {
  describe(`ingest behind ${fastHttp === 'true' ? 'the fast HTTP path' : 'node:http alone'}`, () => {
    let t: TestHookyard;
    let port: number;
    let projectId: string;
    let sourceId: string;
    before(async () => {
      t = await startTestHookyard('sqlite', { fastHttp });
      port = Number(new URL(t.url).port);
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'fronts' } })).body.id;
      const source = await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
        body: { provider: 'github', secrets: [secret] },
      });
      sourceId = source.body.id;
    });
    after(async () => {
      await t.cleanup();
    });

    const request = (delivery: string, body: string, chunked = false) => {
      const common = `POST /in/${sourceId} HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\nx-github-event: push\r\nx-github-delivery: ${delivery}\r\nx-hub-signature-256: ${sig(body)}\r\n`;
      if (!chunked) return `${common}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      const half = Math.floor(body.length / 2);
      const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
      return `${common}transfer-encoding: chunked\r\n\r\n${chunk(body.slice(0, half))}${chunk(body.slice(half))}0\r\n\r\n`;
    };

    it('stores plain, chunked and pipelined deliveries, mixed with API calls on one connection', async () => {
      const tag = fastHttp === 'true' ? 'f' : 'n';
      const bodies = ['{"n":1}', '{"n":2,"s":"chunked"}', '{"n":3}', '{"n":4}'];
      const auth = `authorization: Bearer ${t.adminKey}\r\n`;
      const answers = await exchange(
        port,
        [
          request(`${tag}-1`, bodies[0] as string),
          request(`${tag}-2`, bodies[1] as string, true),
          `GET /api/v1/projects/${projectId} HTTP/1.1\r\nhost: t\r\n${auth}\r\n`,
          // Two at once, the second cut in its head.
          request(`${tag}-3`, bodies[2] as string) + request(`${tag}-4`, bodies[3] as string).slice(0, 40),
          request(`${tag}-4`, bodies[3] as string).slice(40),
        ],
        5,
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 200, 200],
        JSON.stringify(answers),
      );
      assert.equal(JSON.parse(answers[2]?.body as string).id, projectId);
      const listed = await t.api('GET', `/api/v1/projects/${projectId}/events?limit=50`);
      const byDelivery = new Map(
        (listed.body.items as { providerEventId: string; id: string }[]).map((e) => [
          e.providerEventId,
          e.id,
        ]),
      );
      for (let i = 0; i < 4; i++) {
        const id = byDelivery.get(`${tag}-${i + 1}`);
        assert.ok(id, `delivery ${i + 1} stored`);
        const shown = await t.api('GET', `/api/v1/projects/${projectId}/events/${id}`);
        assert.equal(shown.body.body, bodies[i], 'byte-exact');
        assert.equal(shown.body.verification.ok, true);
        assert.equal(shown.body.headers['x-github-event'], 'push');
        assert.equal(shown.body.method, 'POST');
      }
    });

    it('refuses a bad signature and an unknown source the same way', async () => {
      const bad = request('x-1', '{"n":1}').replace(/sha256=[0-9a-f]+/, `sha256=${'0'.repeat(64)}`);
      const unknown = `POST /in/src_nope HTTP/1.1\r\nhost: t\r\ncontent-length: 2\r\n\r\n{}`;
      const answers = await exchange(port, [bad, unknown], 2);
      assert.equal(answers[0]?.status, 401);
      assert.equal(JSON.parse(answers[0]?.body as string).code, 'signature_invalid');
      assert.equal(answers[1]?.status, 404);
      assert.equal(JSON.parse(answers[1]?.body as string).code, 'not_found');
    });
  });
}
