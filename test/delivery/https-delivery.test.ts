import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { type EgressLookup, parseEgressAllowList } from '../../src/delivery/egress-guard.ts';
import { createDeliveryHttpClient, type DeliveryHttpClient } from '../../src/delivery/http-client.ts';
import { createTestCa, issueServerCert, type TestCa } from '../helpers/tls-certs.ts';

// Deliveries to HTTPS receivers: a real TLS server on loopback with a certificate from a CA made
// in this run. The URL names a host (receiver.test, resolved by the test's lookup to 127.0.0.1)
// so the check that matters is made: the certificate is verified against the URL's hostname
// (sent as SNI), not against the address the egress guard connected to.

const HOST = 'receiver.test';
const lookup: EgressLookup = async (hostname) =>
  hostname === HOST || hostname === 'other.test' ? [{ address: '127.0.0.1' }] : [];
const LOOPBACK = parseEgressAllowList('127.0.0.0/8');

interface TlsReceiver {
  readonly port: number;
  readonly serverNames: string[];
  readonly bodies: string[];
  close(): Promise<void>;
}

async function startTlsReceiver(cert: { certPem: string; keyPem: string }): Promise<TlsReceiver> {
  const serverNames: string[] = [];
  const bodies: string[] = [];
  const server: Server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    serverNames.push(String((req.socket as TLSSocket).servername));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    serverNames,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('delivery over HTTPS', () => {
  let ca: TestCa;
  let receiver: TlsReceiver;
  const clients: DeliveryHttpClient[] = [];
  const client = (options: { ca?: string; allow?: typeof LOOPBACK } = {}) => {
    const c = createDeliveryHttpClient({
      egress: { allow: options.allow ?? LOOPBACK, lookup },
      ...(options.ca ? { tls: { ca: options.ca } } : {}),
    });
    clients.push(c);
    return c;
  };
  const post = (c: DeliveryHttpClient, host = HOST) =>
    c.post(`https://${host}:${receiver.port}/hooks`, { 'content-type': 'application/json' }, '{"n":1}', {
      timeoutMs: 5000,
    });

  before(async () => {
    ca = await createTestCa();
    receiver = await startTlsReceiver(await issueServerCert(ca, [HOST]));
  });
  after(async () => {
    for (const c of clients) await c.close();
    await receiver.close();
  });

  it('delivers to a receiver whose certificate chains to a trusted CA, naming the host in SNI', async () => {
    const result = await post(client({ ca: ca.certPem }));
    assert.equal(result.ok, true, result.errorMessage);
    assert.equal(result.statusCode, 204);
    assert.deepEqual(receiver.serverNames, [HOST]);
    assert.deepEqual(receiver.bodies, ['{"n":1}']);
  });

  it('fails the attempt as a TLS error when the certificate is not trusted', async () => {
    const before = receiver.bodies.length;
    // The system's CAs do not include the test CA.
    const result = await post(client());
    assert.equal(result.ok, false);
    assert.equal(result.errorKind, 'tls');
    assert.match(result.errorMessage ?? '', /certificate/i);
    assert.equal(receiver.bodies.length, before, 'nothing was sent');
  });

  it('fails the attempt when the certificate is for another name, even from a trusted CA', async () => {
    const before = receiver.bodies.length;
    // other.test resolves to the same receiver, whose certificate names only receiver.test.
    const result = await post(client({ ca: ca.certPem }), 'other.test');
    assert.equal(result.ok, false);
    assert.equal(result.errorKind, 'tls');
    assert.match(result.errorMessage ?? '', /other\.test|altnames|hostname/i);
    assert.equal(receiver.bodies.length, before, 'nothing was sent');
  });

  it("trusts a private CA given to the process with Node's NODE_EXTRA_CA_CERTS", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hookyard-ca-'));
    try {
      const caFile = path.join(dir, 'ca.pem');
      writeFileSync(caFile, ca.certPem);
      const run = (env: Record<string, string>) =>
        new Promise<{ ok: boolean; errorKind?: string }>((resolve, reject) => {
          execFile(
            process.execPath,
            [
              '--import',
              'tsx',
              path.join(import.meta.dirname, '../fixtures/https-post.ts'),
              `https://${HOST}:${receiver.port}/hooks`,
            ],
            { env: { ...process.env, ...env }, timeout: 30_000 },
            (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))),
          );
        });
      assert.equal((await run({ NODE_EXTRA_CA_CERTS: caFile })).ok, true);
      const without = await run({ NODE_EXTRA_CA_CERTS: '' });
      assert.equal(without.ok, false);
      assert.equal(without.errorKind, 'tls');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the egress guard on HTTPS: a loopback receiver that is not allow-listed is refused', async () => {
    const before = receiver.bodies.length;
    const result = await post(client({ ca: ca.certPem, allow: [] }));
    assert.equal(result.ok, false);
    assert.notEqual(result.errorKind, 'tls');
    assert.equal(receiver.bodies.length, before, 'nothing was sent');
  });
});
