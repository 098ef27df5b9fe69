import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { type Hookyard, startHookyard } from '../../src/main.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { openSse, type SseConnection } from './sse-client.ts';

const githubSig = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

for (const kind of STORE_KINDS) {
  describe(`live stream (${kind})`, () => {
    let t: TestHookyard;
    let projectId: string;
    let key: string;
    let otherKey: string;
    let otherProjectId: string;
    let sourceId: string;
    let otherSourceId: string;
    const secret = 'stream-secret';
    const open: SseConnection[] = [];
    before(async () => {
      t = await startTestHookyard(kind, { streamMaxPerProject: '3', streamHeartbeatMs: '200' });
      projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
      key = (await t.api('POST', `/api/v1/projects/${projectId}/api-keys`, { body: {} })).body.key;
      otherProjectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'B' } })).body.id;
      otherKey = (await t.api('POST', `/api/v1/projects/${otherProjectId}/api-keys`, { body: {} })).body.key;
      const mk = async (name: string) =>
        (
          await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
            key,
            body: { name, provider: 'github', secrets: [secret] },
          })
        ).body.id as string;
      sourceId = await mk('one');
      otherSourceId = await mk('two');
    });
    after(async () => {
      for (const c of open) c.close();
      await t.cleanup();
    });
    const streamUrl = (query = '') => `${t.url}/api/v1/projects/${projectId}/stream${query}`;
    const connect = async (
      query = '',
      headers: Record<string, string> = { authorization: `Bearer ${key}` },
    ) => {
      const c = await openSse(streamUrl(query), headers);
      open.push(c);
      return c;
    };
    const send = async (source: string, payload: Record<string, unknown>, event = 'push') => {
      const body = JSON.stringify(payload);
      const res = await fetch(`${t.url}/in/${source}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-hub-signature-256': githubSig(secret, body),
        },
        body,
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { id: string }).id;
    };
    const data = (f: { data?: string }) => JSON.parse(f.data ?? '{}');

    it('shows each inbound event as it lands, filtered by source and type, with heartbeats', async () => {
      const all = await connect();
      const onlyOne = await connect(`?sourceId=${sourceId}&types=issues`);
      assert.equal(all.status, 200);
      assert.match(all.headers.get('content-type') ?? '', /^text\/event-stream/);
      const pushed = await send(sourceId, { n: 1 }, 'push');
      const issue = await send(sourceId, { n: 2 }, 'issues');
      const elsewhere = await send(otherSourceId, { n: 3 }, 'issues');
      const events = await all.waitFor((f) => f.event === 'inbound.event', 3);
      assert.deepEqual(
        events.map((f) => data(f).id),
        [pushed, issue, elsewhere],
      );
      assert.equal(data(events[1] as object).eventType, 'issues');
      assert.equal(data(events[1] as object).sourceId, sourceId);
      const filtered = await onlyOne.waitFor((f) => f.event === 'inbound.event');
      assert.equal(data(filtered[0] as object).id, issue);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(onlyOne.frames.filter((f) => f.event === 'inbound.event').length, 1);
      await all.waitFor((f) => (f.comment ?? '').startsWith('heartbeat'));
      all.close();
      onlyOne.close();
    });

    it('shows refused requests, and resumes after Last-Event-ID without repeating', async () => {
      const c = await connect();
      const first = await send(sourceId, { n: 'first' });
      const [frame] = await c.waitFor((f) => f.event === 'inbound.event' && data(f).id === first);
      const cursor = frame?.id as string;
      assert.match(cursor, /^evt_[0-9a-z]+\.rfq_[0-9a-z]+$/);
      c.close();

      const missed = await send(sourceId, { n: 'while away' });
      const refused = await fetch(`${t.url}/in/${sourceId}`, {
        method: 'POST',
        headers: { 'x-hub-signature-256': githubSig('wrong', '{}') },
        body: '{}',
      });
      assert.equal(refused.status, 401);
      const resumed = await connect('', { authorization: `Bearer ${key}`, 'last-event-id': cursor });
      const [again] = await resumed.waitFor((f) => f.event === 'inbound.event');
      assert.equal(
        data(again as object).id,
        missed,
        'the event sent while away, not the one before the cursor',
      );
      const [refusal] = await resumed.waitFor((f) => f.event === 'inbound.refused');
      assert.equal(data(refusal as object).reasonCode, 'signature_invalid');
      assert.equal(data(refusal as object).sourceId, sourceId);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(resumed.frames.filter((f) => f.event === 'inbound.event').length, 1);
      resumed.close();

      const bad = await connect('', { authorization: `Bearer ${key}`, 'last-event-id': 'nope' });
      assert.equal(bad.status, 400);
      assert.match(JSON.parse(await bad.text()).detail, /last-event-id/);
    });

    it('opens with a one-time ticket instead of a key, never the key in the URL', async () => {
      const noAuth = await connect('', {});
      assert.equal(noAuth.status, 401);
      const keyInUrl = await connect(`?ticket=${key}`, {});
      assert.equal(keyInUrl.status, 401, 'an API key is not a ticket');
      const ticket = await t.api('POST', `/api/v1/projects/${projectId}/stream-tickets`, { key });
      assert.equal(ticket.status, 201);
      assert.match(ticket.body.ticket, /^hyst_/);
      const byTicket = await connect(`?ticket=${ticket.body.ticket}`, {});
      assert.equal(byTicket.status, 200);
      const id = await send(sourceId, { n: 'ticket' });
      await byTicket.waitFor((f) => f.event === 'inbound.event' && data(f).id === id);
      byTicket.close();
      const reused = await connect(`?ticket=${ticket.body.ticket}`, {});
      assert.equal(reused.status, 401, 'a ticket works once');

      const foreign = await t.api('POST', `/api/v1/projects/${otherProjectId}/stream-tickets`, {
        key: otherKey,
      });
      const crossed = await connect(`?ticket=${foreign.body.ticket}`, {});
      assert.equal(crossed.status, 401, "another project's ticket does not open this project's stream");
      const foreignKey = await connect('', { authorization: `Bearer ${otherKey}` });
      assert.equal(foreignKey.status, 404);
    });

    it('refuses a stream beyond the per-project cap with 429, and takes one again once closed', async () => {
      const streams = [await connect(), await connect(), await connect()];
      assert.deepEqual(
        streams.map((s) => s.status),
        [200, 200, 200],
      );
      const over = await connect();
      assert.equal(over.status, 429);
      assert.match(JSON.parse(await over.text()).detail, /HOOKYARD_STREAM_MAX_PER_PROJECT/);
      streams[0]?.close();
      let again = 0;
      for (let i = 0; i < 50 && again !== 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const c = await connect();
        again = c.status;
      }
      assert.equal(again, 200);
      for (const s of open) s.close();
    });

    it('refuses bad filters with the field named', async () => {
      await new Promise((r) => setTimeout(r, 200));
      const badType = await connect('?types=a.*.b');
      assert.equal(badType.status, 400);
      assert.match(JSON.parse(await badType.text()).detail, /types/);
      const unknownSource = await connect('?sourceId=src_00000000000000000000000');
      assert.equal(unknownSource.status, 404);
      const badKind = await connect('?kinds=messages');
      assert.equal(badKind.status, 400);
      assert.match(JSON.parse(await badKind.text()).detail, /kinds/);
    });
  });
}

describe('live stream across processes (postgres)', () => {
  let t: TestHookyard;
  let ingestOnly: Hookyard;
  before(async () => {
    t = await startTestHookyard('postgres');
    ingestOnly = await startHookyard(
      loadConfig({
        env: {},
        flags: {
          port: '0',
          host: '127.0.0.1',
          dataDir: t.config.dataDir,
          databaseUrl: t.config.databaseUrl,
          adminKey: t.adminKey,
          masterKey: t.config.masterKey,
          logLevel: 'silent',
          roles: 'ingest',
        },
      }),
      { logger: pino({ level: 'silent' }) },
    );
  });
  after(async () => {
    await ingestOnly.close();
    await t.cleanup();
  });

  it('shows an event that another process stored', async () => {
    const projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'A' } })).body.id;
    const source = await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
      body: { name: 'plain', provider: 'github', secrets: ['s'] },
    });
    const stream = await openSse(`${t.url}/api/v1/projects/${projectId}/stream`, {
      authorization: `Bearer ${t.adminKey}`,
    });
    try {
      const body = '{"from":"elsewhere"}';
      const res = await fetch(`${ingestOnly.url}/in/${source.body.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': githubSig('s', body) },
        body,
      });
      assert.equal(res.status, 200);
      const { id } = (await res.json()) as { id: string };
      const [frame] = await stream.waitFor((f) => f.event === 'inbound.event', 1, 5000);
      assert.equal(JSON.parse(frame?.data ?? '{}').id, id);
    } finally {
      stream.close();
    }
  });
});
