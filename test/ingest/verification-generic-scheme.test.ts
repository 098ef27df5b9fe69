import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Stripe from 'stripe';
import { HookyardError } from '../../src/domain/errors.ts';
import { compileVerifier } from '../../src/ingest/verification/compile-verifier.ts';
import { compileScheme } from '../../src/ingest/verification/generic-verifier.ts';
import { listProviderPresets } from '../../src/ingest/verification/provider-presets.ts';
import { lowerCaseHeaders, type RawRequest } from '../../src/ingest/verification/raw-request.ts';
import { parseVerificationScheme } from '../../src/ingest/verification/scheme-validation.ts';
import { QUOTED_EXAMPLES } from './preset-quoted-examples.ts';

interface Example {
  secret: string;
  headers: Record<string, string>;
  body: string;
  now: number;
  source: string;
}

/** Slack's documented example request (docs.slack.dev, quoted in preset-quoted-examples.ts). */
function slackExample(): Example {
  const quoted = QUOTED_EXAMPLES.find((e) => e.provider === 'slack');
  assert.ok(quoted?.secrets[0] && quoted.nowSeconds !== null);
  return {
    secret: quoted.secrets[0],
    headers: quoted.headers,
    body: quoted.body,
    now: quoted.nowSeconds,
    source: quoted.source,
  };
}

/** A Stripe request signed now by the stripe SDK (stripe.webhooks.generateTestHeaderString). */
function stripeExample(): Example {
  const secret = 'whsec_generic_scheme_test';
  const body = '{"id":"evt_1","object":"event","type":"customer.created"}';
  const now = 1_700_000_000;
  const signature = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({
    payload: body,
    secret,
    timestamp: now,
  });
  return {
    secret,
    headers: { 'Stripe-Signature': signature },
    body,
    now: now + 100,
    source: 'stripe npm: generateTestHeaderString',
  };
}

function requestOf(v: Example): RawRequest {
  return {
    method: 'POST',
    url: 'https://hookyard.invalid/x',
    headers: lowerCaseHeaders(v.headers),
    body: Buffer.from(v.body),
  };
}

/** Slack's scheme written by hand as a custom source would, header names in mixed case on purpose. */
const slackLike = {
  type: 'hmac',
  algorithm: 'sha256',
  signature: { header: 'X-Slack-Signature', prefix: 'v0=', encoding: 'hex' },
  signedContent: 'v0:{timestamp}:{body}',
  timestamp: { header: 'X-Slack-Request-Timestamp', unit: 'seconds', toleranceSeconds: 300 },
};

describe('a custom scheme given as data', () => {
  test("reproducing Slack verifies Slack's documented example", (t) => {
    const v = slackExample();
    t.diagnostic(`source: ${v.source}`);
    const verify = compileVerifier({ scheme: slackLike, secrets: [{ value: v.secret }] });
    const result = verify(requestOf(v), v.now * 1000);
    assert.deepEqual(result, { ok: true, detail: 'signature matched with the secret' });
  });

  test('rejects a tampered body and the stale check at 301 s', () => {
    const tampered = { ...slackExample(), body: `${slackExample().body}------` };
    const verify = compileVerifier({ scheme: slackLike, secrets: [{ value: tampered.secret }] });
    assert.deepEqual(verify(requestOf(tampered), tampered.now * 1000), {
      ok: false,
      reason: 'no signature matched',
    });
    const v = slackExample();
    assert.deepEqual(verify(requestOf(v), (v.now + 301) * 1000), {
      ok: false,
      reason: 'timestamp outside tolerance (300 s)',
    });
    assert.equal(verify(requestOf(v), (v.now + 300) * 1000).ok, true, 'exactly 300 s is inside');
  });

  test('a per-source toleranceSeconds overrides the scheme', () => {
    const v = slackExample();
    const verify = compileVerifier({
      scheme: slackLike,
      secrets: [{ value: v.secret }],
      toleranceSeconds: 10,
    });
    assert.equal(verify(requestOf(v), (v.now + 10) * 1000).ok, true);
    assert.deepEqual(verify(requestOf(v), (v.now + 11) * 1000), {
      ok: false,
      reason: 'timestamp outside tolerance (10 s)',
    });
  });

  test('key=value signature headers with the timestamp inside (Stripe shape) verify a stripe-signed request', () => {
    const v = stripeExample();
    const verify = compileVerifier({
      scheme: {
        type: 'hmac',
        algorithm: 'sha256',
        signature: {
          header: 'stripe-signature',
          separator: ',',
          pairs: { keySeparator: '=', key: 'v1' },
          encoding: 'hex',
        },
        signedContent: '{timestamp}.{body}',
        timestamp: { signatureKey: 't', unit: 'seconds', toleranceSeconds: 300, direction: 'past' },
      },
      secrets: [{ value: v.secret }],
    });
    assert.equal(verify(requestOf(v), v.now * 1000).ok, true);
    // One-sided: a timestamp far in the future of the clock is still accepted.
    assert.equal(verify(requestOf(v), (v.now - 10_000) * 1000).ok, true);
  });

  test('a missing signature header and a missing template header are named', () => {
    const verify = compileVerifier({
      scheme: { ...slackLike, signedContent: '{header:x-request-id}.{timestamp}.{body}' },
      secrets: [{ value: 's' }],
    });
    const base: RawRequest = { method: 'POST', url: 'https://h.test/', headers: {}, body: Buffer.from('{}') };
    assert.deepEqual(verify(base, 0), { ok: false, reason: 'missing header x-slack-signature' });
    const withSig = { ...base, headers: { 'x-slack-signature': 'v0=00', 'x-slack-request-timestamp': '0' } };
    assert.deepEqual(verify(withSig, 0), { ok: false, reason: 'missing header x-request-id' });
  });
});

describe('secret rotation', () => {
  const v = slackExample();
  const nowMs = v.now * 1000;

  test('every live secret is tried, in order', () => {
    const verify = compileVerifier({
      provider: 'slack',
      secrets: [{ value: 'new-secret-not-yet-used' }, { value: v.secret, notAfterMs: nowMs + 60_000 }],
    });
    assert.deepEqual(verify(requestOf(v), nowMs), {
      ok: true,
      detail: 'signature matched with secret 2 of 2',
    });
  });

  test('an expired secret no longer verifies', () => {
    const verify = compileVerifier({
      provider: 'slack',
      secrets: [{ value: 'new-secret-not-yet-used' }, { value: v.secret, notAfterMs: nowMs }],
    });
    assert.deepEqual(verify(requestOf(v), nowMs), { ok: false, reason: 'no signature matched' });
  });

  test('when every secret has expired the reason says so', () => {
    const verify = compileVerifier({
      provider: 'slack',
      secrets: [{ value: v.secret, notAfterMs: nowMs - 1 }],
    });
    assert.deepEqual(verify(requestOf(v), nowMs), { ok: false, reason: 'no live secret (all expired)' });
  });

  test('no secret at all is its own reason, not a crash', () => {
    const verify = compileVerifier({ provider: 'slack' });
    assert.deepEqual(verify(requestOf(v), nowMs), { ok: false, reason: 'no secret configured' });
  });
});

describe('credential schemes', () => {
  const req = (headers: Record<string, string>, url = 'https://h.test/hook', body = ''): RawRequest => ({
    method: 'POST',
    url,
    headers,
    body: Buffer.from(body),
  });

  test('api-key: a named header equals a live secret, after an optional prefix', () => {
    const verify = compileVerifier({
      scheme: { type: 'api-key', header: 'Authorization', prefix: 'Bearer ' },
      secrets: [{ value: 'tok-1' }],
    });
    assert.equal(verify(req({ authorization: 'Bearer tok-1' }), 0).ok, true);
    assert.deepEqual(verify(req({ authorization: 'Bearer tok-2' }), 0), {
      ok: false,
      reason: 'header authorization did not match',
    });
    assert.deepEqual(verify(req({ authorization: 'tok-1' }), 0), {
      ok: false,
      reason: 'header authorization does not start with "Bearer "',
    });
  });

  test('basic: user:password in Authorization', () => {
    const verify = compileVerifier({ scheme: { type: 'basic' }, secrets: [{ value: 'hook:pa:ss' }] });
    const basic = (s: string) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });
    assert.equal(verify(req(basic('hook:pa:ss')), 0).ok, true);
    assert.equal(verify(req(basic('hook:pass')), 0).ok, false);
    assert.deepEqual(verify(req({ authorization: 'Bearer x' }), 0), {
      ok: false,
      reason: 'authorization is not Basic credentials',
    });
  });

  test('token: in the query string or a JSON body field', () => {
    const inQuery = compileVerifier({
      scheme: { type: 'token', query: 'token' },
      secrets: [{ value: 'abc' }],
    });
    assert.equal(inQuery(req({}, 'https://h.test/hook?token=abc'), 0).ok, true);
    assert.deepEqual(inQuery(req({}, 'https://h.test/hook'), 0), {
      ok: false,
      reason: 'missing token (query parameter token)',
    });
    const inBody = compileVerifier({
      scheme: { type: 'token', jsonPath: '$.token' },
      secrets: [{ value: 'abc' }],
    });
    assert.equal(inBody(req({}, undefined, '{"token":"abc"}'), 0).ok, true);
    assert.equal(inBody(req({}, undefined, '{"token":"abd"}'), 0).ok, false);
  });

  test('none: accepted, and the detail says it was not verified', () => {
    const verify = compileVerifier({ scheme: { type: 'none' } });
    assert.deepEqual(verify(req({}), 0), { ok: true, detail: 'not verified: the source chose scheme none' });
  });
});

describe('validation errors name the field and what is allowed', () => {
  const cases: [string, unknown, RegExp][] = [
    [
      'unknown type',
      { type: 'hmac2' },
      /scheme\.type must be one of: hmac, ed25519, ecdsa-p256, basic, api-key, token, none/,
    ],
    [
      'missing algorithm',
      { ...slackLike, algorithm: undefined },
      /scheme\.algorithm must be one of: sha1, sha256, sha512/,
    ],
    [
      'bad encoding',
      { ...slackLike, signature: { header: 'x-sig', encoding: 'b64' } },
      /scheme\.signature\.encoding must be one of: hex, base64 \(got "b64"\)/,
    ],
    [
      'unknown placeholder',
      { ...slackLike, signedContent: '{ts}.{body}' },
      /unknown placeholder "\{ts\}"; allowed: \{method\}/,
    ],
    [
      'timestamp used but not configured',
      { ...slackLike, timestamp: undefined },
      /uses \{timestamp\} but scheme\.timestamp is not set/,
    ],
    [
      'signatureKey without pairs',
      { ...slackLike, timestamp: { signatureKey: 't', unit: 'seconds', toleranceSeconds: 300 } },
      /scheme\.timestamp\.signatureKey needs signature\.pairs/,
    ],
    [
      'bad unit',
      { ...slackLike, timestamp: { header: 'x-ts', unit: 'minutes', toleranceSeconds: 300 } },
      /scheme\.timestamp\.unit must be one of: seconds, milliseconds, rfc3339/,
    ],
    ['unknown field', { ...slackLike, secret: 'oops' }, /scheme\.secret is not a known field/],
    ['bad header name', { type: 'api-key', header: 'x bad' }, /scheme\.header must be an HTTP header name/],
    ['token needs one place', { type: 'token' }, /scheme needs exactly one of: query, jsonPath/],
    [
      'bad JSON path',
      { type: 'token', jsonPath: 'token' },
      /JSON path "token" is invalid: it must start with \$/,
    ],
  ];
  for (const [name, scheme, message] of cases) {
    test(name, () => {
      assert.throws(
        () => parseVerificationScheme(scheme),
        (error: unknown) =>
          error instanceof HookyardError && error.code === 'validation_failed' && message.test(error.detail),
      );
    });
  }

  test('compileVerifier checks provider, secrets, keys and tolerance', () => {
    const expectError = (config: Parameters<typeof compileVerifier>[0], message: RegExp) =>
      assert.throws(
        () => compileVerifier(config),
        (error: unknown) => error instanceof HookyardError && message.test(error.detail),
      );
    expectError({ provider: 'strype' }, /provider must be one of: standard-webhooks, svix, stripe/);
    expectError({ provider: 'stripe', scheme: { type: 'none' } }, /exactly one of: provider/);
    expectError({}, /exactly one of: provider/);
    expectError(
      { provider: 'stripe', secrets: [{ value: '' }] },
      /secrets\[0\]\.value must be a non-empty string/,
    );
    expectError({ provider: 'discord', publicKey: 'not-a-key' }, /publicKey is not an Ed25519 public key/);
    expectError({ provider: 'sendgrid', publicKey: 'AAAA' }, /publicKey is not an ECDSA P-256 public key/);
    expectError({ provider: 'stripe', toleranceSeconds: -1 }, /toleranceSeconds must be a number of seconds/);
  });
});

describe('presets are data in the same vocabulary', () => {
  for (const preset of listProviderPresets()) {
    if (!preset.variants) continue;
    test(`${preset.name}: every scheme survives JSON and validation unchanged`, () => {
      for (const variant of preset.variants ?? []) {
        for (const scheme of variant.schemes) {
          const roundTripped = JSON.parse(JSON.stringify(scheme));
          assert.deepEqual(parseVerificationScheme(roundTripped), scheme);
          compileScheme(scheme, {});
        }
      }
    });
  }
});
