import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { type RunningProcess, runHookyard, spawnHookyard } from '../helpers/process.ts';

const githubSig = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

async function until(check: () => boolean, what: () => string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Got {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver on a chosen port, which can be stopped and started again on it. */
function localReceiver(port: number) {
  const got: Got[] = [];
  let server: Server | null = null;
  return {
    got,
    url: `http://127.0.0.1:${port}/webhooks`,
    async start() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
          got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => server?.listen(port, '127.0.0.1', r));
    },
    async stop() {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      server?.closeAllConnections();
      server = null;
    },
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('hookyard client commands against a running server', () => {
  let t: TestHookyard;
  let projectId: string;
  let key: string;
  let sourceId: string;
  let configHome: string;
  const secret = 'cli-source-secret';
  const running: RunningProcess[] = [];
  let env: Record<string, string>;

  before(async () => {
    t = await startTestHookyard('sqlite');
    projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'cli' } })).body.id;
    key = (await t.api('POST', `/api/v1/projects/${projectId}/api-keys`, { body: {} })).body.key;
    sourceId = (
      await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
        key,
        body: { name: 'gh', provider: 'github', secrets: [secret] },
      })
    ).body.id;
    configHome = mkdtempSync(path.join(os.tmpdir(), 'hy-cli-config-'));
    env = { XDG_CONFIG_HOME: configHome };
  });
  after(async () => {
    for (const p of running) p.child.kill('SIGTERM');
    await Promise.all(running.map((p) => p.exited));
    await t.cleanup();
    rmSync(configHome, { recursive: true, force: true });
  });

  const ingest = async (payload: unknown, event = 'push') => {
    const body = JSON.stringify(payload);
    const res = await fetch(`${t.url}/in/${sourceId}`, {
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

  it('login checks the key and saves it readable by the user only; bad keys and no login have their exit codes', async () => {
    const none = await runHookyard(['status'], env);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /hookyard login/);

    const bad = await runHookyard(['login', '--url', t.url, '--key', 'hyk_nope'], env);
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stderr, /401/);

    const ok = await runHookyard(['login', '--url', t.url, '--key', key], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`project ${projectId}`));
    const file = path.join(configHome, 'hookyard', 'config.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const status = await runHookyard(['status', '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout), { items: [] });

    const viaEnv = await runHookyard(['status', '--json'], {
      XDG_CONFIG_HOME: path.join(configHome, 'elsewhere'),
      HOOKYARD_URL: t.url,
      HOOKYARD_KEY: key,
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    const unreachable = await runHookyard(['status', '--url', 'http://127.0.0.1:1', '--key', key], env);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach/);
  });

  it('listen --forward-to forwards each event re-signed, retrying while the receiver is down', async () => {
    const port = await freePort();
    const receiver = localReceiver(port);
    const p = spawnHookyard(['listen', '--source', sourceId, '--forward-to', receiver.url], env);
    running.push(p);
    await until(
      () => /Ready\./.test(p.stderr()),
      () => p.stderr(),
    );
    const localSecret = /Signing secret: (whsec_\S+)/.exec(p.stderr())?.[1] as string;
    assert.ok(localSecret, p.stderr());

    // The receiver is down: the first event is retried, the second waits behind it.
    const first = await ingest({ n: 1 }, 'push');
    await until(
      () => /cannot be reached/.test(p.stderr()),
      () => p.stderr(),
    );
    const second = await ingest({ n: 2 }, 'issues');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(receiver.got.length, 0);
    await receiver.start();
    try {
      await until(
        () => receiver.got.length >= 2,
        () => `${p.stdout()}\n${p.stderr()}`,
      );
      await until(
        () => p.stdout().includes(second),
        () => p.stdout(),
      );
      const wh = new Webhook(localSecret);
      assert.deepEqual(
        receiver.got.map((g) => g.headers['webhook-id']),
        [first, second],
        'in order, none skipped',
      );
      for (const g of receiver.got) {
        wh.verify(g.body, g.headers as Record<string, string>);
        assert.equal(g.headers['hookyard-source-id'], sourceId);
      }
      assert.deepEqual(JSON.parse(receiver.got[0]?.body ?? ''), { n: 1 });
      assert.equal(receiver.got[1]?.headers['x-github-event'], 'issues', 'the original headers come along');
      assert.match(p.stdout(), new RegExp(`${first}\\s+push\\s+-> 204 \\(\\d+ ms, after \\d+ retries\\)`));
      assert.match(p.stdout(), new RegExp(`${second}\\s+issues\\s+-> 204`));

      // Down again, then back: forwarding goes on.
      await receiver.stop();
      const third = await ingest({ n: 3 });
      await new Promise((r) => setTimeout(r, 600));
      await receiver.start();
      await until(
        () => receiver.got.length >= 3,
        () => p.stderr(),
      );
      assert.equal(receiver.got[2]?.headers['webhook-id'], third);
    } finally {
      p.child.kill('SIGINT');
      const { code } = await p.exited;
      assert.equal(code, 0);
      await receiver.stop();
    }
  });

  it('send, resend and tail work against the server, with --json output', async () => {
    const port = await freePort();
    const receiver = localReceiver(port);
    await receiver.start();
    try {
      const ep = await t.api('POST', `/api/v1/projects/${projectId}/endpoints`, {
        key,
        body: { url: receiver.url },
      });
      assert.equal(ep.status, 201);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'hy-cli-data-'));
      const file = path.join(dir, 'invoice.json');
      writeFileSync(file, JSON.stringify({ invoice: 'in_1' }));
      const sent = await runHookyard(
        [
          'send',
          '--endpoint',
          ep.body.id,
          '--type',
          'invoice.paid',
          '--data',
          `@${file}`,
          '--wait',
          '--json',
        ],
        env,
      );
      assert.equal(sent.code, 0, sent.stderr);
      const [first, delivery] = sent.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.match(first.messageId, /^msg_/);
      assert.equal(delivery.status, 'succeeded');
      assert.deepEqual(JSON.parse(receiver.got[0]?.body ?? '{}').payload, { invoice: 'in_1' });

      const noType = await runHookyard(['send', '--endpoint', ep.body.id], env);
      assert.equal(noType.code, 2);
      assert.match(noType.stderr, /--type/);
      const unknown = await runHookyard(
        ['send', '--endpoint', 'ep_00000000000000000000000', '--type', 'a.b', '--data', '{}'],
        env,
      );
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /not found/);

      const eventId = await ingest({ n: 'replay me' });
      const replayed = await runHookyard(['replay', eventId, '--endpoint', ep.body.id], env);
      assert.equal(replayed.code, 0, replayed.stderr);
      assert.match(replayed.stdout, new RegExp(`${eventId}: forwarded again as msg_\\w+ \\(1 deliveries\\)`));
      const missing = await runHookyard(['replay', 'evt_00000000000000000000000'], env);
      assert.equal(missing.code, 1);

      const resent = await runHookyard(['resend', first.messageId, '--json'], env);
      assert.equal(resent.code, 0, resent.stderr);
      assert.equal(JSON.parse(resent.stdout).deliveryIds.length, 1);
      rmSync(dir, { recursive: true, force: true });

      const tail = spawnHookyard(['tail', '--json'], env);
      running.push(tail);
      await until(
        () => /Ready\./.test(tail.stderr()),
        () => tail.stderr(),
      );
      const id = await ingest({ n: 'tail' });
      await until(
        () => tail.stdout().includes(id),
        () => tail.stdout() + tail.stderr(),
      );
      const line = JSON.parse(
        tail
          .stdout()
          .trim()
          .split('\n')
          .find((l) => l.includes(id)) ?? '{}',
      );
      assert.equal(line.kind, 'inbound.event');
      assert.equal(line.sourceId, sourceId);
      tail.child.kill('SIGINT');
      assert.equal((await tail.exited).code, 0);

      const status = await runHookyard(['status'], env);
      assert.equal(status.code, 0);
      assert.match(status.stdout, new RegExp(`${ep.body.id}\\s+active`));
    } finally {
      await receiver.stop();
    }
  });
});
