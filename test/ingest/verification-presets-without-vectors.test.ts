import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { compileVerifier } from '../../src/ingest/verification/compile-verifier.ts';
import { getProviderPreset } from '../../src/ingest/verification/provider-presets.ts';
import type { RawRequest } from '../../src/ingest/verification/raw-request.ts';

/**
 * Providers with no public signature vector (providers.md evidence D). These requests are signed
 * here with node:crypto straight from the documented formula, independently of the verifier, so
 * they check the preset's wiring (header names, signed bytes, units, tolerances), not the formula.
 */
const SECRET = 'test-secret';
const hmac = (alg: string, data: string, encoding: 'hex' | 'base64', key: string = SECRET) =>
  createHmac(alg, key).update(data).digest(encoding);

function req(
  headers: Record<string, string>,
  body: string,
  url = 'https://hooks.example.com/in/src_1',
): RawRequest {
  return { method: 'POST', url, headers, body: Buffer.from(body) };
}

function verifyWith(provider: string, request: RawRequest, nowMs: number, secrets = [SECRET]) {
  return compileVerifier({ provider, secrets: secrets.map((value) => ({ value })) })(request, nowMs);
}

describe('zoom: v0=hex HMAC over v0:{ts}:{body}, 300 s', () => {
  const body = '{"event":"meeting.started"}';
  const ts = '1700000000';
  const headers = {
    'x-zm-request-timestamp': ts,
    'x-zm-signature': `v0=${hmac('sha256', `v0:${ts}:${body}`, 'hex')}`,
  };
  test('valid', () => assert.equal(verifyWith('zoom', req(headers, body), 1_700_000_000_000).ok, true));
  test('stale', () =>
    assert.deepEqual(verifyWith('zoom', req(headers, body), 1_700_000_301_000), {
      ok: false,
      reason: 'timestamp outside tolerance (300 s)',
    }));
});

describe('linear: hex HMAC over the body, webhookTimestamp (ms) within 60 s', () => {
  const body = '{"type":"Issue","action":"create","webhookTimestamp":1700000000000}';
  const headers = { 'linear-signature': hmac('sha256', body, 'hex') };
  test('valid', () => assert.equal(verifyWith('linear', req(headers, body), 1_700_000_060_000).ok, true));
  test('61 s off either way is rejected', () => {
    assert.equal(verifyWith('linear', req(headers, body), 1_700_000_061_000).ok, false);
    assert.equal(verifyWith('linear', req(headers, body), 1_699_999_939_000).ok, false);
  });
  test('the signed body timestamp wins over an unsigned header', () => {
    const replay = { ...headers, 'linear-timestamp': '1700000500000' };
    assert.equal(verifyWith('linear', req(replay, body), 1_700_000_500_000).ok, false);
  });
  test('without a body field the linear-timestamp header is used', () => {
    const plain = '{"type":"Issue"}';
    const h = { 'linear-signature': hmac('sha256', plain, 'hex'), 'linear-timestamp': '1700000000000' };
    assert.equal(verifyWith('linear', req(h, plain), 1_700_000_000_000).ok, true);
    assert.deepEqual(verifyWith('linear', req({ 'linear-signature': h['linear-signature'] }, plain), 0), {
      ok: false,
      reason: 'missing timestamp (header linear-timestamp)',
    });
  });
});

describe('body-only HMAC presets', () => {
  const body = '{"hello":"world"}';
  const cases: [string, Record<string, string>][] = [
    ['intercom', { 'x-hub-signature': `sha1=${hmac('sha1', body, 'hex')}` }],
    ['asana', { 'x-hook-signature': hmac('sha256', body, 'hex') }],
    ['notion', { 'x-notion-signature': `sha256=${hmac('sha256', body, 'hex')}` }],
    ['meta', { 'x-hub-signature-256': `sha256=${hmac('sha256', body, 'hex')}` }],
    ['whatsapp', { 'x-hub-signature-256': `sha256=${hmac('sha256', body, 'hex')}` }],
    ['shopify', { 'shopify-hmac-sha256': hmac('sha256', body, 'base64') }],
  ];
  for (const [provider, headers] of cases) {
    test(`${provider}: valid, and invalid after one byte changes`, () => {
      assert.equal(verifyWith(provider, req(headers, body), 0).ok, true);
      assert.equal(verifyWith(provider, req(headers, `${body} `), 0).ok, false);
    });
  }
});

test('trello: base64 HMAC-SHA1 over body + callback URL', () => {
  const body = '{"action":{"id":"a1"}}';
  const url = 'https://hooks.example.com/trelloCallbacks/?memberID=14';
  const headers = { 'x-trello-webhook': hmac('sha1', body + url, 'base64') };
  assert.equal(verifyWith('trello', req(headers, body, url), 0).ok, true);
  assert.equal(verifyWith('trello', req(headers, body, `${url}&x=1`), 0).ok, false);
});

describe('gitlab: secret token, or Standard Webhooks with a signing token', () => {
  test('x-gitlab-token must equal the secret', () => {
    assert.equal(verifyWith('gitlab', req({ 'x-gitlab-token': SECRET }, '{}'), 0).ok, true);
    assert.deepEqual(verifyWith('gitlab', req({ 'x-gitlab-token': 'nope' }, '{}'), 0), {
      ok: false,
      reason: 'header x-gitlab-token did not match',
    });
  });
  test('webhook-signature headers switch to the Standard Webhooks path', () => {
    const key = Buffer.from('gitlab-signing-key').toString('base64');
    const body = '{"object_kind":"push"}';
    const id = 'msg_1';
    const ts = '1700000000';
    const sig = createHmac('sha256', Buffer.from(key, 'base64'))
      .update(`${id}.${ts}.${body}`)
      .digest('base64');
    const headers = { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` };
    assert.equal(verifyWith('gitlab', req(headers, body), 1_700_000_000_000, [`whsec_${key}`]).ok, true);
    assert.equal(
      verifyWith(
        'gitlab',
        req({ ...headers, 'x-gitlab-token': `whsec_${key}` }, `${body} `),
        1_700_000_000_000,
        [`whsec_${key}`],
      ).ok,
      false,
    );
  });
});

test('okta: Authorization equals the configured value', () => {
  assert.equal(verifyWith('okta', req({ authorization: SECRET }, '{}'), 0).ok, true);
  assert.equal(verifyWith('okta', req({ authorization: `${SECRET}x` }, '{}'), 0).ok, false);
});

describe('microsoft-graph: clientState in every notification', () => {
  const note = (clientState: string) => ({ subscriptionId: 's', changeType: 'created', clientState });
  test('all match', () => {
    const body = JSON.stringify({ value: [note(SECRET), note(SECRET)] });
    assert.deepEqual(verifyWith('microsoft-graph', req({}, body), 0), {
      ok: true,
      detail: 'clientState matched in 2 notifications',
    });
  });
  test('one forged item fails the batch', () => {
    const body = JSON.stringify({ value: [note(SECRET), note('guess')] });
    assert.deepEqual(verifyWith('microsoft-graph', req({}, body), 0), {
      ok: false,
      reason: 'clientState of notification 1 did not match',
    });
  });
  test('no notifications', () => {
    assert.equal(verifyWith('microsoft-graph', req({}, '{"value":[]}'), 0).ok, false);
  });
});

test('mailgun: legacy form fields carry the same signature', () => {
  const timestamp = '1700000000';
  const token = 'tok123';
  const signature = hmac('sha256', timestamp + token, 'hex');
  const body = new URLSearchParams({ timestamp, token, signature, event: 'delivered' }).toString();
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  assert.equal(verifyWith('mailgun', req(headers, body), 1_700_000_000_000).ok, true);
  assert.deepEqual(verifyWith('mailgun', req(headers, body), 1_700_000_301_000), {
    ok: false,
    reason: 'timestamp outside tolerance (300 s)',
  });
});

test('hubspot v3 decodes the escapes HubSpot lists when the SDK form does not match', () => {
  const url = 'https://hooks.example.com/in?x=a%3Ab';
  const ts = '1700000000000';
  const body = '[]';
  const signed = `POSThttps://hooks.example.com/in?x=a:b${body}${ts}`;
  const headers = {
    'x-hubspot-signature-v3': hmac('sha256', signed, 'base64'),
    'x-hubspot-request-timestamp': ts,
  };
  assert.equal(verifyWith('hubspot', req(headers, body, url), 1_700_000_000_000).ok, true);
  // One-sided like the SDK: a timestamp ahead of the clock is accepted, 301 s behind is not.
  assert.equal(verifyWith('hubspot', req(headers, body, url), 1_600_000_000_000).ok, true);
  assert.equal(verifyWith('hubspot', req(headers, body, url), 1_700_000_301_000).ok, false);
});

test('hubspot v1 is a plain SHA-256 of secret + body, not an HMAC', () => {
  const body = '[{"eventId":1}]';
  const headers = {
    'x-hubspot-signature': createHash('sha256')
      .update(SECRET + body)
      .digest('hex'),
  };
  assert.equal(verifyWith('hubspot', req(headers, body), 0).ok, true);
  const unsupported = { ...headers, 'x-hubspot-signature-version': 'v9' };
  assert.deepEqual(verifyWith('hubspot', req(unsupported, body), 0), {
    ok: false,
    reason: 'unsupported x-hubspot-signature-version v9',
  });
});

test('twilio refuses a query padded past querystring key limits (maxKeys lifted)', () => {
  const url = 'https://mycompany.com/myapp.php?foo=1';
  const sig = hmac('sha1', url, 'base64');
  const padded = `${url}${'&'.repeat(1200)}&admin=1`;
  assert.equal(
    verifyWith(
      'twilio',
      { method: 'GET', url, headers: { 'x-twilio-signature': sig }, body: Buffer.alloc(0) },
      0,
    ).ok,
    true,
  );
  assert.equal(
    verifyWith(
      'twilio',
      { method: 'GET', url: padded, headers: { 'x-twilio-signature': sig }, body: Buffer.alloc(0) },
      0,
    ).ok,
    false,
  );
});

test('every preset names its dedupe key, event type and handshake in the catalogue', () => {
  for (const [name, handshake] of [
    ['slack', 'slack-url-verification'],
    ['meta', 'meta-hub-challenge'],
    ['facebook', 'meta-hub-challenge'],
    ['instagram', 'meta-hub-challenge'],
    ['x', 'twitter-crc'],
    ['discord', 'discord-ping'],
    ['stripe', null],
  ] as const) {
    assert.equal(getProviderPreset(name)?.handshake, handshake, name);
  }
  assert.deepEqual(getProviderPreset('box')?.secretRoles, ['primary', 'secondary']);
});
