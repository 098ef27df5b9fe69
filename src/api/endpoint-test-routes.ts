import type { FastifyInstance } from 'fastify';
import { wakeDeliveryWorkers } from '../delivery/delivery-wakeup.ts';
import { prepareMessage } from '../delivery/publisher.ts';
import type { Clock } from '../domain/clock.ts';
import { HookyardError, notFound } from '../domain/errors.ts';
import { isId } from '../domain/ids.ts';
import { assertJsonDepth } from '../security/json-depth.ts';
import type { EndpointRoute } from '../store/delivery-store.ts';
import type { Store } from '../store/store.ts';
import { authorizeProject } from './auth.ts';
import { bearerSecurity, errorResponses, errorSchema, eventTypeName } from './schemas.ts';

/**
 * The test sender: a registered event type's example payload sent to one endpoint as a real
 * message (signed, retried, listed with the others), whatever the endpoint's filters say.
 */
export function registerEndpointTestRoutes(app: FastifyInstance, deps: { store: Store; clock: Clock }): void {
  const { store, clock } = deps;
  app.post<{
    Params: { projectId: string; endpointId: string };
    Body: { eventType: string; payload?: unknown };
  }>(
    '/api/v1/projects/:projectId/endpoints/:endpointId/test',
    {
      schema: {
        tags: ['endpoints'],
        summary:
          "Send a registered event type's example payload (or the payload given) to this endpoint only",
        security: bearerSecurity,
        params: {
          type: 'object',
          required: ['projectId', 'endpointId'],
          properties: { projectId: { type: 'string' }, endpointId: { type: 'string' } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['eventType'],
          properties: {
            eventType: eventTypeName,
            payload: {
              description:
                "any JSON value to send instead of the event type's example (then the type need not be registered)",
            },
          },
        },
        response: {
          202: {
            type: 'object',
            required: ['messageId', 'deliveryId'],
            properties: {
              messageId: { type: 'string' },
              deliveryId: {
                type: 'string',
                description: 'follow it with GET …/messages/{messageId}/deliveries',
              },
            },
          },
          409: errorSchema,
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const projectId = await authorizeProject(request, store, request.params.projectId);
      const { endpointId } = request.params;
      const endpoint = isId('endpoint', endpointId) ? await store.getEndpoint(projectId, endpointId) : null;
      if (!endpoint) throw notFound(`endpoint ${endpointId}`);
      const { eventType } = request.body;
      const given = request.body.payload;
      if (given !== undefined) assertJsonDepth(given, 'payload');
      const registered = given === undefined ? await store.getEventType(projectId, eventType) : null;
      if (given === undefined && !registered) {
        throw new HookyardError(
          'not_found',
          `Event type ${eventType} is not registered; register it with an example (POST …/event-types { name, example }).`,
        );
      }
      if (registered && registered.example === null) {
        throw new HookyardError(
          'validation_failed',
          `body.eventType: ${eventType} has no example payload; give it one (POST …/event-types { name, example }).`,
        );
      }
      if (!endpoint.enabled || endpoint.health.state === 'disabled') {
        throw new HookyardError(
          'conflict',
          `Endpoint ${endpoint.id} is disabled; enable it first (POST …/endpoints/${endpoint.id}/enable).`,
        );
      }
      // Only this endpoint, and regardless of its filters: the test is of the endpoint, not of routing.
      const route = {
        id: endpoint.id,
        userId: endpoint.userId,
        eventTypes: [],
        objectTypes: [],
        active: true,
      } as unknown as EndpointRoute;
      const nowMs = clock.nowMs();
      const prepared = prepareMessage(
        {
          projectId,
          eventType,
          payload: given ?? registered?.example,
          // A user's endpoint takes only that user's messages: the test message is that user's.
          ...(endpoint.userId !== null ? { userId: endpoint.userId } : {}),
        },
        [route],
        nowMs,
      );
      await store.insertMessages([prepared]);
      wakeDeliveryWorkers(store);
      reply.code(202);
      return { messageId: prepared.message.id, deliveryId: prepared.deliveries[0]?.id };
    },
  );
}
