import assert from 'node:assert/strict';
import { test } from 'node:test';
import Stripe from 'stripe';
import { verifyCapturedRequest } from '../../src/ingest/verification/offline-verify.ts';
import { QUOTED_EXAMPLES } from './preset-quoted-examples.ts';

// A Stripe request signed by the stripe SDK (stripe.webhooks.generateTestHeaderString).
const stripe = (() => {
  const secret = 'whsec_offline_verify_test';
  const body = '{"id":"evt_1","object":"event","type":"customer.created"}\n';
  const timestamp = 1_700_000_000;
  const header = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({
    payload: body,
    secret,
    timestamp,
  });
  return { secret, body, header, now: timestamp + 100 };
})();

const stripeRequest = {
  method: 'POST',
  url: 'https://hooks.example.com/in/src_1',
  // Header names as a capture file might spell them.
  headers: { 'STRIPE-SIGNATURE': stripe.header },
  body: stripe.body,
};

test('verifies a capture with header names in any case, at the given time', () => {
  const result = verifyCapturedRequest({
    provider: 'stripe',
    secrets: [stripe.secret],
    request: stripeRequest,
    nowSeconds: stripe.now,
  });
  assert.deepEqual(result, { valid: true, detail: 'signature matched with the secret' });
});

test('checks freshness when nowSeconds is given, and says so when it is not', () => {
  const later = verifyCapturedRequest({
    provider: 'stripe',
    secrets: [stripe.secret],
    request: stripeRequest,
    nowSeconds: stripe.now + 301,
  });
  assert.deepEqual(later, { valid: false, reason: 'timestamp outside tolerance (300 s)' });
  const whenever = verifyCapturedRequest({
    provider: 'stripe',
    secrets: [stripe.secret],
    request: stripeRequest,
  });
  assert.deepEqual(whenever, {
    valid: true,
    detail: 'signature matched with the secret (freshness not checked)',
  });
});

test('body_base64 carries exact bytes', () => {
  const { body, ...rest } = stripeRequest;
  const result = verifyCapturedRequest({
    provider: 'stripe',
    secrets: [stripe.secret],
    request: { ...rest, body_base64: Buffer.from(body).toString('base64') },
  });
  assert.equal(result.valid, true);
  const both = verifyCapturedRequest({
    provider: 'stripe',
    secrets: [stripe.secret],
    request: { ...stripeRequest, body_base64: 'AA==' },
  });
  assert.deepEqual(both, { valid: false, reason: 'request has both body and body_base64; give one' });
});

test('box secrets are positional: primary, then secondary', (t) => {
  // box-node-sdk's own test request: its primary signature is made with SamplePrimaryKey.
  const v = QUOTED_EXAMPLES.find((e) => e.provider === 'box');
  assert.ok(v && v.nowSeconds !== null);
  t.diagnostic(`source: ${v.source}`);
  const [primary = '', secondary = ''] = v.secrets;
  const request = { method: 'POST', url: 'https://h.test/box', headers: v.headers, body: v.body };
  const inOrder = verifyCapturedRequest({
    provider: 'box',
    secrets: [primary, secondary],
    request,
    nowSeconds: v.nowSeconds,
  });
  assert.deepEqual(inOrder, { valid: true, detail: 'primary signature matched with the primary key' });
  const swapped = verifyCapturedRequest({
    provider: 'box',
    secrets: [secondary, primary],
    request,
    nowSeconds: v.nowSeconds,
  });
  assert.deepEqual(swapped, { valid: false, reason: 'no signature matched' });
});

test('config errors come back as invalid with the validation message', () => {
  const unknown = verifyCapturedRequest({ provider: 'nope', secrets: ['x'], request: stripeRequest });
  assert.equal(unknown.valid, false);
  assert.match(
    unknown.valid ? '' : unknown.reason,
    /^provider must be one of: standard-webhooks, svix, stripe/,
  );
  const badKey = verifyCapturedRequest({
    provider: 'discord',
    secrets: [],
    publicKey: 'zz',
    request: stripeRequest,
  });
  assert.match(badKey.valid ? '' : badKey.reason, /publicKey is not an Ed25519 public key/);
});

test('reasons never contain the secret', () => {
  const secret = 'whsec_super_secret_value';
  const result = verifyCapturedRequest({
    provider: 'stripe',
    secrets: [secret],
    request: stripeRequest,
    nowSeconds: stripe.now,
  });
  assert.equal(result.valid, false);
  assert.ok(!JSON.stringify(result).includes('super_secret'));
});
