import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import {
  generateEndpointSecret,
  isEndpointSecret,
  parseEndpointSecret,
} from '../../src/delivery/endpoint-secret.ts';
import {
  createSigningKey,
  signDelivery,
  signPlainHmacHex,
  signStandardWebhook,
  validateSignatureHeaderName,
} from '../../src/delivery/signer.ts';
import { HookyardError } from '../../src/domain/errors.ts';

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('endpoint secrets', () => {
  it('generates whsec_ + base64 of 32 random bytes', () => {
    const a = generateEndpointSecret();
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(parseEndpointSecret(a).length, 32);
    assert.notEqual(a, generateEndpointSecret());
  });

  it('accepts imported secrets of 24 to 64 bytes and refuses others without echoing them', () => {
    for (const bytes of [24, 33, 64]) {
      const secret = `whsec_${randomBytes(bytes).toString('base64')}`;
      assert.equal(parseEndpointSecret(secret).length, bytes);
      assert.equal(isEndpointSecret(secret), true);
    }
    const tooShort = `whsec_${randomBytes(23).toString('base64')}`;
    const tooLong = `whsec_${randomBytes(65).toString('base64')}`;
    const cases: Array<[string, RegExp]> = [
      [tooShort, /decodes to 23 bytes; expected 24 to 64/],
      [tooLong, /decodes to 65 bytes; expected 24 to 64/],
      [randomBytes(32).toString('base64'), /must start with "whsec_"/],
      ['whsec_', /must be standard base64/],
      [`whsec_${randomBytes(32).toString('base64url')}_-`, /must be standard base64/],
      [`whsec_${randomBytes(32).toString('base64').replace(/=$/, '')}`, /must be standard base64/],
    ];
    for (const [secret, message] of cases) {
      assert.throws(
        () => parseEndpointSecret(secret),
        (e: unknown) =>
          e instanceof HookyardError &&
          e.code === 'validation_failed' &&
          message.test(e.detail) &&
          (secret.length < 20 || !e.detail.includes(secret.slice(6, 20))),
      );
      assert.equal(isEndpointSecret(secret), false);
    }
  });
});

describe('Standard Webhooks signer (checked with the official standardwebhooks package)', () => {
  const secretA = generateEndpointSecret();
  const secretB = generateEndpointSecret();
  const keyA = createSigningKey(secretA);
  const keyB = createSigningKey(secretB);
  const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'in_1', note: 'naïve café ☕ — 日本' } });

  it('produces headers the official verifier accepts, for a string and a Buffer body', () => {
    const headers = signStandardWebhook({
      msgId: 'msg_1',
      timestampSeconds: nowSeconds(),
      body,
      keys: [keyA],
    });
    assert.equal(headers['webhook-id'], 'msg_1');
    assert.match(headers['webhook-timestamp'], /^\d+$/);
    assert.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(new Webhook(secretA).verify(body, headers), JSON.parse(body));

    const bufferHeaders = signStandardWebhook({
      msgId: 'msg_1',
      timestampSeconds: Number(headers['webhook-timestamp']),
      body: Buffer.from(body, 'utf8'),
      keys: [keyA],
    });
    assert.deepEqual(bufferHeaders, headers, 'string and bytes of the same body sign alike');
    assert.deepEqual(new Webhook(secretA).verify(Buffer.from(body, 'utf8'), bufferHeaders), JSON.parse(body));
  });

  it('signs with every live secret; each secret alone verifies the multi-signature header', () => {
    const headers = signStandardWebhook({
      msgId: 'msg_2',
      timestampSeconds: nowSeconds(),
      body,
      keys: [keyA, keyB],
    });
    const parts = headers['webhook-signature'].split(' ');
    assert.equal(parts.length, 2);
    for (const part of parts) assert.match(part, /^v1,/);
    assert.deepEqual(new Webhook(secretA).verify(body, headers), JSON.parse(body));
    assert.deepEqual(new Webhook(secretB).verify(body, headers), JSON.parse(body));
    // The official signer agrees with each of our signatures byte for byte.
    const ts = new Date(Number(headers['webhook-timestamp']) * 1000);
    assert.equal(new Webhook(secretA).sign('msg_2', ts, body), parts[0]);
    assert.equal(new Webhook(secretB).sign('msg_2', ts, body), parts[1]);
  });

  it('is refused by the official verifier for another secret, a changed body, id or timestamp', () => {
    const other = generateEndpointSecret();
    const ts = nowSeconds();
    const headers = signStandardWebhook({ msgId: 'msg_3', timestampSeconds: ts, body, keys: [keyA, keyB] });
    const refused = (fn: () => unknown) => assert.throws(fn, WebhookVerificationError);
    refused(() => new Webhook(other).verify(body, headers));
    refused(() => new Webhook(secretA).verify(`${body} `, headers));
    refused(() => new Webhook(secretA).verify(body, { ...headers, 'webhook-id': 'msg_4' }));
    refused(() => new Webhook(secretA).verify(body, { ...headers, 'webhook-timestamp': String(ts + 1) }));
  });

  it('works with imported secrets of unusual length', () => {
    const imported = `whsec_${randomBytes(24).toString('base64')}`;
    const headers = signStandardWebhook({
      msgId: 'msg_5',
      timestampSeconds: nowSeconds(),
      body,
      keys: [createSigningKey(imported)],
    });
    assert.deepEqual(new Webhook(imported).verify(body, headers), JSON.parse(body));
  });

  it('refuses bad input', () => {
    assert.throws(() => signStandardWebhook({ msgId: 'm', timestampSeconds: 1, body, keys: [] }), RangeError);
    assert.throws(
      () => signStandardWebhook({ msgId: 'm', timestampSeconds: 1.5, body, keys: [keyA] }),
      RangeError,
    );
    assert.throws(
      () => signStandardWebhook({ msgId: 'a b', timestampSeconds: 1, body, keys: [keyA] }),
      RangeError,
    );
    assert.throws(() => createSigningKey('whsec_short'), HookyardError);
  });
});

describe('plain hex HMAC header', () => {
  const secret = generateEndpointSecret();
  const key = createSigningKey(secret);
  const body = '{"hello":"world"}';

  it('is hex HMAC-SHA256 of the raw body keyed with the whsec_ string bytes, as a receiver computes it', () => {
    const receiver = createHmac('sha256', secret).update(body).digest('hex');
    assert.equal(signPlainHmacHex(key, body), receiver);
    assert.equal(signPlainHmacHex(key, Buffer.from(body)), receiver);
    assert.notEqual(
      signPlainHmacHex(key, body),
      createHmac('sha256', parseEndpointSecret(secret)).update(body).digest('hex'),
      'not keyed with the decoded bytes',
    );
  });

  it('is added by signDelivery under the endpoint header name, keyed with the current (first) secret', () => {
    const previous = generateEndpointSecret();
    const headers = signDelivery({
      msgId: 'msg_6',
      timestampSeconds: nowSeconds(),
      body,
      keys: [key, createSigningKey(previous)],
      plainHmacHeader: 'X-Paradym-HMAC-SHA-256',
    });
    assert.equal(headers['x-paradym-hmac-sha-256'], createHmac('sha256', secret).update(body).digest('hex'));
    assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    assert.deepEqual(new Webhook(previous).verify(body, headers), JSON.parse(body));
    const without = signDelivery({ msgId: 'msg_6', timestampSeconds: 1, body, keys: [key] });
    assert.deepEqual(Object.keys(without).sort(), ['webhook-id', 'webhook-signature', 'webhook-timestamp']);
  });

  it('validates the header name', () => {
    assert.equal(validateSignatureHeaderName('X-Paradym-HMAC-SHA-256'), 'X-Paradym-HMAC-SHA-256');
    assert.throws(() => validateSignatureHeaderName('X Sig'), /HTTP token/);
    assert.throws(() => validateSignatureHeaderName(''), /HTTP token/);
    assert.throws(() => validateSignatureHeaderName('Webhook-Signature'), /set by Hookyard itself/);
  });
});
