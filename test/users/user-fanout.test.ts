import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepareMessage } from '../../src/delivery/publisher.ts';
import { type EndpointId, newId, type ProjectId } from '../../src/domain/ids.ts';
import type { EndpointRoute } from '../../src/store/delivery-store.ts';

const route = (userId: string | null, eventTypes: string[] = []): EndpointRoute => ({
  id: newId('endpoint'),
  userId,
  eventTypes,
  objectTypes: [],
  active: true,
  updatedAtMs: 1,
  healthState: 'active',
  consecutiveFailures: 0,
  limited: false,
  retryDelaysMs: null,
  egressAllow: null,
});

describe('fan-out by user', () => {
  const projectId = newId('project') as ProjectId;
  const shared = route(null);
  const sharedOtherType = route(null, ['customer.*']);
  const ofA = route('user-a');
  const ofAOtherType = route('user-a', ['customer.*']);
  const ofB = route('user-b');
  const routes = [shared, sharedOtherType, ofA, ofAOtherType, ofB];
  const targets = (userId?: string): EndpointId[] =>
    prepareMessage(
      { projectId, eventType: 'invoice.paid', payload: {}, ...(userId !== undefined ? { userId } : {}) },
      routes,
      1000,
    ).deliveries.map((d) => d.endpointId);

  it("sends a user's message to that user's endpoints and the project-wide ones, filters applied", () => {
    assert.deepEqual(targets('user-a'), [shared.id, ofA.id]);
    assert.deepEqual(targets('user-b'), [shared.id, ofB.id]);
  });

  it('sends a message without a user, or for a user with no endpoints, to the project-wide ones only', () => {
    assert.deepEqual(targets(), [shared.id]);
    assert.deepEqual(targets('user-c'), [shared.id]);
  });
});
