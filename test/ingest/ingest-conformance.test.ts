import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../../src/domain/clock.ts';
import { bodyOf, loadVectors, secretsOf, VECTORS_FILE, vectorsPresent } from '../helpers/conformance.ts';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.ts';
import { runHookyard } from '../helpers/process.ts';

/**
 * Every conformance vector (real cases from providers' docs and official SDK tests; each test
 * prints its source) through the live server, over a real socket, with the server's clock set to
 * the vector's `now`; and a sample through the `hookyard verify` command, which must agree.
 */
const vectors = loadVectors();
const ZENDESK_PLACEHOLDER_TIMESTAMP = new Set(['zendesk-145', 'zendesk-146']);

/** The timestamp the request itself carries (a *timestamp* header, or Mailgun's body field), in ms. */
function ownTimestampMs(v: (typeof vectors)[number]): number | null {
  const raw =
    Object.entries(v.headers ?? {}).find(([k]) => /timestamp/i.test(k))?.[1] ??
    v.mailgun_fields?.timestamp ??
    null;
  if (!raw) return null;
  // HubSpot's X-HubSpot-Request-Timestamp is in milliseconds; the others are in seconds.
  if (/^\d+$/.test(raw)) return v.provider === 'hubspot' ? Number(raw) : Number(raw) * 1000;
  const t = Date.parse(raw);
  return Number.isFinite(t) ? t : null;
}

function send(url: URL, method: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      url,
      { method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('conformance vectors through the live server', () => {
  let t: TestHookyard;
  const clock = new FakeClock(Date.now());
  let projectId: string;
  before(async () => {
    t = await startTestHookyard('sqlite', {}, { clock });
    projectId = (await t.api('POST', '/api/v1/projects', { body: { name: 'conformance' } })).body.id;
  });
  after(async () => {
    await t.cleanup();
  });

  it('has the data', () => {
    assert.ok(vectorsPresent, `conformance data not found at ${VECTORS_FILE}`);
    assert.equal(vectors.length, 148);
  });

  for (const v of vectors) {
    it(`${v.id} [${v.provider}] → ${v.expect === 'valid' ? '2xx' : '401'}`, async (ctx) => {
      ctx.diagnostic(`source: ${v.source}`);
      const signedUrl = v.url ? new URL(v.url) : null;
      const create = await t.api('POST', `/api/v1/projects/${projectId}/sources`, {
        body: {
          provider: v.provider,
          secrets: secretsOf(v),
          ...(v.public_key ? { publicKey: v.public_key } : {}),
          // The provider signed the URL it was configured with; tell the source what that was.
          ...(v.url ? { publicUrl: v.url.split('?')[0] } : {}),
        },
      });
      assert.equal(create.status, 201, JSON.stringify(create.body));
      // now = null: the case's source checks no freshness, so the server's clock is set to the
      // request's own timestamp (when it has one): the signature is what is under test.
      clock.set(v.now === null ? (ownTimestampMs(v) ?? Date.now()) : v.now * 1000);
      const target = new URL(`${t.url}/in/${create.body.id}${signedUrl?.search ?? ''}`);
      const res = await send(target, v.method ?? 'POST', v.headers ?? {}, bodyOf(v));
      if (ZENDESK_PLACEHOLDER_TIMESTAMP.has(v.id)) {
        // The capture uses the placeholder timestamp "1234"; Zendesk sends RFC 3339 and the server
        // checks freshness, so it must refuse this one (offline, with --no-freshness, it verifies).
        assert.equal(res.status, 401, res.text);
        assert.match(JSON.parse(res.text).detail, /timestamp/);
      } else if (v.expect === 'valid') {
        assert.equal(res.status, 200, res.text);
      } else {
        assert.equal(res.status, 401, res.text);
        assert.equal(JSON.parse(res.text).code, 'signature_invalid');
      }
    });
  }
});

describe('hookyard verify (the offline command) agrees with the server', () => {
  // One valid and one invalid case per provider keeps process spawns few; the full set runs
  // through the same compiled verifier in verification-conformance.test.ts.
  const picked = new Map<string, (typeof vectors)[number]>();
  for (const v of vectors) {
    const key = `${v.provider}:${v.expect}`;
    if (!picked.has(key)) picked.set(key, v);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hy-verify-'));
  for (const v of picked.values()) {
    it(`${v.id} [${v.provider}] → ${v.expect}`, async (ctx) => {
      ctx.diagnostic(`source: ${v.source}`);
      const file = path.join(dir, `${v.id}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          method: v.method ?? 'POST',
          url: v.url ?? 'https://hooks.example/in/src_x',
          headers: v.headers ?? {},
          body: bodyOf(v),
        }),
      );
      const args = ['verify', '--provider', v.provider, '--request', file];
      for (const s of secretsOf(v)) args.push('--secret', s);
      if (v.public_key) args.push('--public-key', v.public_key);
      if (v.now !== null) args.push('--now', String(v.now));
      else args.push('--no-freshness');
      const r = await runHookyard(args);
      if (v.expect === 'valid') {
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /^valid/);
      } else {
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stdout, /^invalid: \S/);
      }
    });
  }
});
