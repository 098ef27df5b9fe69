import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MESSAGE_BODY_BYTES } from '../../src/delivery/publisher.ts';
import {
  forwardedBody,
  jsonNestsDeeperThan,
  MAX_FORWARDED_BODY_BYTES,
  MAX_FORWARDED_JSON_DEPTH,
} from '../../src/routing/forwarded-body.ts';
import { forwardedEventType } from '../../src/routing/inbound-forwarder.ts';
import { MAX_ROUTING_ATTEMPTS, routingRetryAtMs } from '../../src/routing/routing-retry-policy.ts';

describe('routing retry policy', () => {
  it('backs off fourfold from a second to an hour, then sets the job aside', () => {
    const delays = Array.from({ length: MAX_ROUTING_ATTEMPTS }, (_, i) => routingRetryAtMs(i + 1, 1000));
    assert.deepEqual(
      delays.map((at) => (at === null ? null : at - 1000)),
      [1000, 4000, 16_000, 64_000, 256_000, 1_024_000, 3_600_000, 3_600_000, 3_600_000, null],
    );
  });
});

describe('forwarded body', () => {
  const deep = (n: number) => Buffer.from(`${'['.repeat(n)}1${']'.repeat(n)}`);

  it('measures nesting outside strings only', () => {
    assert.equal(jsonNestsDeeperThan(deep(3), 3), false);
    assert.equal(jsonNestsDeeperThan(deep(4), 3), true);
    assert.equal(jsonNestsDeeperThan(Buffer.from('{"a":"[[[[[[\\"[[[["}'), 1), false);
  });

  it('carries parsed JSON, deep JSON as text, other text, binary as base64', () => {
    assert.deepEqual(forwardedBody({ body: Buffer.from('{"a":[1]}'), jsonValid: true }), {
      body: { a: [1] },
    });
    const tooDeep = deep(MAX_FORWARDED_JSON_DEPTH + 1);
    assert.deepEqual(forwardedBody({ body: tooDeep, jsonValid: true }), { bodyText: tooDeep.toString() });
    assert.deepEqual(forwardedBody({ body: Buffer.from('a=1&b=2'), jsonValid: null }), {
      bodyText: 'a=1&b=2',
    });
    assert.deepEqual(forwardedBody({ body: Buffer.from([0xff, 0x00]), jsonValid: null }), {
      bodyBase64: '/wA=',
    });
  });

  it('omits a body that would not fit a message, in whatever form it would take', () => {
    const omitted = (bytes: number) => ({ bodyOmitted: { reason: 'too_large', bytes } });
    const bigJson = Buffer.from(JSON.stringify({ s: 'x'.repeat(MAX_FORWARDED_BODY_BYTES) }));
    assert.deepEqual(forwardedBody({ body: bigJson, jsonValid: true }), omitted(bigJson.length));
    // Base64 grows a body by a third; control characters grow sixfold when escaped as JSON text.
    const binary = Buffer.alloc(Math.floor(MAX_FORWARDED_BODY_BYTES * 0.8), 0xff);
    assert.deepEqual(forwardedBody({ body: binary, jsonValid: null }), omitted(binary.length));
    const controls = Buffer.alloc(Math.floor(MAX_FORWARDED_BODY_BYTES / 5), 0x01);
    assert.deepEqual(forwardedBody({ body: controls, jsonValid: null }), omitted(controls.length));
    assert.ok(MAX_FORWARDED_BODY_BYTES < MAX_MESSAGE_BODY_BYTES);
  });
});

describe('forwarded event type', () => {
  it('is {provider}.{type}, custom and event when absent, with other characters as _', () => {
    assert.equal(forwardedEventType('stripe', 'invoice.paid'), 'stripe.invoice.paid');
    assert.equal(forwardedEventType(null, null), 'custom.event');
    assert.equal(forwardedEventType('github', 'issues opened!'), 'github.issues_opened_');
  });
});
