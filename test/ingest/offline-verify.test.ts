import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { verifyCapturedRequest } from '../../src/ingest/verification/offline-verify.ts';

interface Vector {
  id: string;
  secret: string | { primary: string; secondary: string };
  headers: Record<string, string>;
  body: string;
  now: number;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vectorsFile = path.join(path.resolve(repoRoot, '..', 'shared', 'conformance'), 'vectors.json');

function vector(id: string): Vector {
  assert.ok(existsSync(vectorsFile), `conformance data not found at ${vectorsFile}`);
  const found = (JSON.parse(readFileSync(vectorsFile, 'utf8')) as Vector[]).find((v) => v.id === id);
  assert.ok(found, `vector ${id} not in vectors.json`);
  return found;
}

const stripe = vector('stripe-029');
const stripeRequest = {
  method: 'POST',
  url: 'https://hooks.example.com/in/src_1',
  // Header names as a capture file might spell them.
  headers: { 'STRIPE-SIGNATURE': stripe.headers['Stripe-Signature'] ?? '' },
  body: stripe.body,
};

test('verifies a capture with header names in any case, at the given time', () => {
  const result = verifyCapturedRequest({
    provider: 'stripe',
    secrets: [stripe.secret as string],
    request: stripeRequest,
    nowSeconds: stripe.now,
  });
  assert.deepEqual(result, { valid: true, detail: 'signature matched with the secret' });
});

test('checks freshness when nowSeconds is given, and says so when it is not', () => {
  const later = verifyCapturedRequest({
    provider: 'stripe',
    secrets: [stripe.secret as string],
    request: stripeRequest,
    nowSeconds: stripe.now + 301,
  });
  assert.deepEqual(later, { valid: false, reason: 'timestamp outside tolerance (300 s)' });
  const whenever = verifyCapturedRequest({
    provider: 'stripe',
    secrets: [stripe.secret as string],
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
    secrets: [stripe.secret as string],
    request: { ...rest, body_base64: Buffer.from(body).toString('base64') },
  });
  assert.equal(result.valid, true);
  const both = verifyCapturedRequest({
    provider: 'stripe',
    secrets: [stripe.secret as string],
    request: { ...stripeRequest, body_base64: 'AA==' },
  });
  assert.deepEqual(both, { valid: false, reason: 'request has both body and body_base64; give one' });
});

test('box secrets are positional: primary, then secondary', () => {
  const v = vector('box-111');
  const keys = v.secret as { primary: string; secondary: string };
  const request = { method: 'POST', url: 'https://h.test/box', headers: v.headers, body: v.body };
  const inOrder = verifyCapturedRequest({
    provider: 'box',
    secrets: [keys.primary, keys.secondary],
    request,
    nowSeconds: v.now,
  });
  assert.deepEqual(inOrder, { valid: true, detail: 'secondary signature matched with the secondary key' });
  const swapped = verifyCapturedRequest({
    provider: 'box',
    secrets: [keys.secondary, keys.primary],
    request,
    nowSeconds: v.now,
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
