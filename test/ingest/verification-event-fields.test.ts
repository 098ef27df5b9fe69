import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileEventFieldReader } from '../../src/ingest/verification/event-field.ts';
import { getProviderPreset } from '../../src/ingest/verification/provider-presets.ts';
import type { RawRequest } from '../../src/ingest/verification/raw-request.ts';

function req(headers: Record<string, string>, body: string): RawRequest {
  return { method: 'POST', url: 'https://h.test/hook', headers, body: Buffer.from(body) };
}

function fields(
  provider: string,
  request: RawRequest,
): { dedupeKey: string | null; eventType: string | null } {
  const preset = getProviderPreset(provider);
  assert.ok(preset, provider);
  return {
    dedupeKey: compileEventFieldReader(preset.dedupeKey)(request),
    eventType: compileEventFieldReader(preset.eventType)(request),
  };
}

test('stripe: $.id and $.type', () => {
  assert.deepEqual(fields('stripe', req({}, '{"id":"evt_1","type":"invoice.paid"}')), {
    dedupeKey: 'evt_1',
    eventType: 'invoice.paid',
  });
});

test('github: delivery and event headers', () => {
  assert.deepEqual(fields('github', req({ 'x-github-delivery': 'guid-1', 'x-github-event': 'push' }, '{}')), {
    dedupeKey: 'guid-1',
    eventType: 'push',
  });
});

test('standard webhooks and svix: the message id header', () => {
  assert.equal(
    fields('standard-webhooks', req({ 'webhook-id': 'msg_1' }, '{"type":"a.b"}')).dedupeKey,
    'msg_1',
  );
  assert.equal(fields('svix', req({ 'svix-id': 'msg_2' }, '{}')).dedupeKey, 'msg_2');
  assert.equal(fields('svix', req({ 'webhook-id': 'msg_3' }, '{}')).dedupeKey, 'msg_3');
});

test('shopify: X-Shopify-Event-Id (same across duplicates) wins over the per-delivery webhook id', () => {
  const both = req(
    { 'x-shopify-event-id': 'ev-1', 'x-shopify-webhook-id': 'wh-9', 'x-shopify-topic': 'orders/create' },
    '{}',
  );
  assert.deepEqual(fields('shopify', both), { dedupeKey: 'ev-1', eventType: 'orders/create' });
  assert.equal(fields('shopify', req({ 'x-shopify-webhook-id': 'wh-9' }, '{}')).dedupeKey, 'wh-9');
});

test('slack: event_id and the inner event type', () => {
  const body = '{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}';
  assert.deepEqual(fields('slack', req({}, body)), { dedupeKey: 'Ev1', eventType: 'app_mention' });
});

test('hubspot: the first event of the array', () => {
  const body = '[{"eventId":100,"subscriptionType":"contact.creation"},{"eventId":101}]';
  assert.deepEqual(fields('hubspot', req({}, body)), { dedupeKey: '100', eventType: 'contact.creation' });
});

test('zoom: no event id, so event + event_ts + object id', () => {
  const body = '{"event":"meeting.started","event_ts":1700000000000,"payload":{"object":{"id":"85"}}}';
  assert.deepEqual(fields('zoom', req({}, body)), {
    dedupeKey: 'meeting.started:1700000000000:85',
    eventType: 'meeting.started',
  });
  assert.equal(
    fields('zoom', req({}, '{"event":"x","event_ts":1}')).dedupeKey,
    null,
    'all parts are required',
  );
});

test('mailgun: event-data id and event', () => {
  const body = '{"signature":{},"event-data":{"id":"mg-1","event":"delivered"}}';
  assert.deepEqual(fields('mailgun', req({}, body)), { dedupeKey: 'mg-1', eventType: 'delivered' });
});

test('asana: no id, so the body hash; empty bodies have none', () => {
  const key = fields('asana', req({}, '{"events":[{"action":"changed"}]}'));
  assert.match(key.dedupeKey ?? '', /^[0-9a-f]{64}$/);
  assert.equal(key.eventType, 'changed');
  assert.equal(fields('asana', req({}, '')).dedupeKey, null);
});

test('twilio: idempotency header, else the form MessageSid', () => {
  assert.equal(
    fields('twilio', req({ 'i-twilio-idempotency-token': 'tok' }, 'MessageSid=SM1')).dedupeKey,
    'tok',
  );
  assert.deepEqual(fields('twilio', req({}, 'MessageSid=SM1&SmsStatus=received')), {
    dedupeKey: 'SM1',
    eventType: 'received',
  });
});

test('non-JSON bodies and non-scalar values yield null, not an exception', () => {
  assert.deepEqual(fields('stripe', req({}, 'not json')), { dedupeKey: null, eventType: null });
  assert.equal(fields('stripe', req({}, '{"id":{"nested":1}}')).dedupeKey, null);
  assert.equal(fields('stripe', req({}, '{"id":""}')).dedupeKey, null);
});

test('a pre-parsed body is used instead of parsing again', () => {
  const read = compileEventFieldReader([{ from: 'json', path: '$.id' }]);
  assert.equal(read(req({}, 'ignored'), { id: 'from-parsed' }), 'from-parsed');
});
