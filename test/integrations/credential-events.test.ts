import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createPublisher } from '../../src/delivery/publisher.ts';
import { systemClock } from '../../src/domain/clock.ts';
import type { ProjectId } from '../../src/domain/ids.ts';
import { createSourceService } from '../../src/ingest/source-service.ts';
import { type CredentialEvent, createCredentialEvents } from '../../src/integrations/credential-events.ts';
import { createCredentialService } from '../../src/integrations/credential-service.ts';
import { createIntegrationService } from '../../src/integrations/integration-service.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import { openTestStore, seedProject, type TestStore } from '../helpers/stores.ts';

describe('credential events and teardown', () => {
  let t: TestStore;
  let projectId: ProjectId;
  const silent = pino({ level: 'silent' });
  const secrets = createSecretBox([{ id: 'k1', key: randomBytes(32) }]);
  before(async () => {
    t = await openTestStore('sqlite');
    projectId = await seedProject(t.store);
  });
  after(async () => {
    await t.cleanup();
  });

  it('tells listeners of a new credential, runs teardowns before a delete and answers their failures as warnings', async () => {
    const store = t.store;
    const sources = createSourceService({ store, secrets, clock: systemClock, publicBaseUrl: 'http://h' });
    const integrations = createIntegrationService({
      store,
      secrets,
      clock: systemClock,
      sources,
      shipped: new Map(),
    });
    await integrations.create(projectId, {
      key: 'keyed',
      name: 'Keyed',
      auth: { type: 'apiKey', header: 'x-api-key', prefix: '' },
      triggers: [
        {
          type: 'thing',
          title: 'Thing',
          setup: 'manual',
          level: 'user',
          verification: { type: 'none' },
        },
      ],
    });
    const events = createCredentialEvents(silent);
    const seen: CredentialEvent['type'][] = [];
    events.on((e) => {
      seen.push(e.type);
    });
    events.on(() => {
      throw new Error('a broken listener does not stop the others');
    });
    const tornDown: string[] = [];
    events.onTeardown(async (c) => {
      tornDown.push(c.id);
      return [];
    });
    events.onTeardown(async () => {
      throw new Error('the provider answered 500');
    });
    const publisher = createPublisher({ store, clock: systemClock });
    const credentials = createCredentialService({
      store,
      secrets,
      clock: systemClock,
      integrations,
      publisher,
      events,
      providerFetch: () => Promise.reject(new Error('no provider call expected')),
      logger: silent,
    });
    try {
      const created = await credentials.create(projectId, {
        integration: 'keyed',
        userId: 'user-1',
        auth: { apiKey: 'k-123' },
      });
      assert.equal(created.authType, 'apiKey');
      assert.deepEqual(seen, ['connected']);
      const { warnings } = await credentials.remove(projectId, created.id);
      assert.deepEqual(tornDown, [created.id]);
      assert.deepEqual(warnings, ['teardown failed: the provider answered 500']);
      assert.deepEqual(seen, ['connected', 'deleted']);
      assert.equal(await store.getCredential(projectId, created.id), null);
      const messages = await store.listMessages(projectId, {}, { limit: 10 });
      assert.deepEqual(messages.items.map((m) => m.eventType).sort(), [
        'integration.disabled',
        'integration.enabled',
      ]);
    } finally {
      await publisher.close();
    }
  });
});
