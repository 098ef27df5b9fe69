import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RawRequest } from '../../src/ingest/verification/raw-request.ts';
import type { TriggerDefinition } from '../../src/integrations/integration-definition.ts';
import { compileTriggerEventReader } from '../../src/integrations/trigger-event.ts';

const base: TriggerDefinition = {
  type: 't',
  title: 'T',
  setup: 'manual',
  level: 'user',
  verification: { type: 'none' },
};

function request(body: unknown, headers: Record<string, string> = {}): RawRequest {
  return {
    method: 'POST',
    url: 'https://h.example/in/src_1',
    headers,
    body: Buffer.from(JSON.stringify(body)),
  };
}

describe('trigger event readers', () => {
  test('a filter on a field takes only the listed values (numbers compared as text)', () => {
    const reader = compileTriggerEventReader({
      ...base,
      filter: { field: { jsonPath: '$.object.status', in: ['open', 2] } },
    });
    assert.equal(reader.matches(request({ object: { status: 'open' } })), true);
    assert.equal(reader.matches(request({ object: { status: 2 } })), true);
    assert.equal(reader.matches(request({ object: { status: 'closed' } })), false);
    assert.equal(reader.matches(request({ object: {} })), false);
    const byHeader = compileTriggerEventReader({
      ...base,
      filter: { field: { header: 'X-Topic', in: ['a'] } },
    });
    assert.equal(byHeader.matches(request({}, { 'x-topic': 'a' })), true);
    assert.equal(byHeader.matches(request({}, { 'x-topic': 'b' })), false);
  });

  test('an event type filter and a field filter must both hold', () => {
    const reader = compileTriggerEventReader({
      ...base,
      eventType: { jsonPath: '$.type' },
      filter: { eventType: ['a.created'], field: { jsonPath: '$.live', in: [true] } },
    });
    assert.equal(reader.matches(request({ type: 'a.created', live: true })), true);
    assert.equal(reader.matches(request({ type: 'a.created', live: false })), false);
    assert.equal(reader.matches(request({ type: 'a.deleted', live: true })), false);
  });

  test('composite ids, body hashes, and preset defaults a trigger can override', () => {
    const composite = compileTriggerEventReader({ ...base, eventId: { jsonPaths: ['$.event', '$.ts'] } });
    assert.equal(composite.readEventId?.(request({ event: 'x', ts: 5 })), 'x:5');
    assert.equal(composite.readEventId?.(request({ event: 'x' })), null);
    const preset = compileTriggerEventReader({ ...base, verification: { provider: 'stripe' } });
    assert.equal(preset.readEventId?.(request({ id: 'evt_1', type: 'charge.succeeded' })), 'evt_1');
    assert.equal(
      preset.readEventType?.(request({ id: 'evt_1', type: 'charge.succeeded' })),
      'charge.succeeded',
    );
    const own = compileTriggerEventReader({
      ...base,
      verification: { provider: 'stripe' },
      eventType: { header: 'X-Kind' },
    });
    assert.equal(own.readEventType?.(request({ type: 'charge.succeeded' }, { 'x-kind': 'mine' })), 'mine');
    const hashed = compileTriggerEventReader({ ...base, eventId: { bodySha256: true } });
    assert.match(hashed.readEventId?.(request({ a: 1 })) ?? '', /^[0-9a-f]{64}$/);
  });
});
