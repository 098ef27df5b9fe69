import { HookyardError, notFound } from '../domain/errors.ts';
import { matchesEndpointFilters } from '../domain/event-type-filter.ts';
import type { EndpointId, EventId, ProjectId } from '../domain/ids.ts';
import type { InboundEventRecord } from '../store/inbound-store.ts';
import type { Store } from '../store/store.ts';
import { forwardedBody } from './forwarded-body.ts';
import type { RoutedEventSubscriber } from './routed-event-subscriber.ts';

/** What the forwarder needs from the outbound side: publishing one message (group-committed). */
export interface MessagePublisher {
  publish(input: {
    projectId: ProjectId;
    eventType: string;
    payload: unknown;
    objectType?: string;
    credentialId?: string;
    idempotencyKey?: string;
    excludeEndpointIds?: readonly EndpointId[];
  }): Promise<{ id: string; deliveries: number; duplicate: boolean }>;
}

/** The object type of every forwarded message: endpoints may filter on it. */
export const FORWARDED_OBJECT_TYPE = 'inbound_event';

/**
 * The message type of a forwarded event: `{provider}.{provider's event type}`
 * (`stripe.invoice.paid`, `github.issues`), `custom.…` for a source without a preset, `….event`
 * when the provider gave no type; characters an event type may not hold become `_`.
 */
export function forwardedEventType(provider: string | null, eventType: string | null): string {
  return `${provider ?? 'custom'}.${eventType ?? 'event'}`.replace(/[^A-Za-z0-9_\-:/.]/g, '_');
}

/** The message payload of a forwarded event (docs/delivery.md, "Forwarded inbound events"). */
export function forwardedPayload(
  event: InboundEventRecord,
  provider: string | null,
  tenantId: string | null,
) {
  return {
    object: FORWARDED_OBJECT_TYPE,
    eventId: event.id,
    sourceId: event.sourceId,
    provider,
    providerEventId: event.providerEventId,
    eventType: event.eventType,
    tenantId,
    receivedAt: new Date(event.receivedAtMs).toISOString(),
    ...forwardedBody(event),
  };
}

export interface InboundForwarder extends RoutedEventSubscriber {
  /**
   * Forwards a stored, routed event again as a new message: to every endpoint whose filters take
   * it, or to the one named (404 when it is not the project's, 409 when its filters refuse it).
   */
  forwardAgain(
    projectId: ProjectId,
    eventId: EventId,
    options?: { endpointId?: EndpointId },
  ): Promise<{ messageId: string; deliveries: number }>;
}

/**
 * Routed inbound events become messages to the project's endpoints (DESIGN: "the way of one
 * event", step 3), tagged with the tenant as credentialId. The message's idempotency key is the
 * inbound event id, so a routing retry (a lease that expired mid-way, another subscriber failing)
 * does not publish twice.
 *
 * It answers no to "is there follow-up work?": whether a project has endpoints is checked by the
 * store in the event's own insert, which sees endpoints committed by any process (a cache here
 * would let an event that arrives after an endpoint exists become no message).
 */
export function createInboundForwarder(deps: {
  store: Pick<Store, 'getInboundEvent' | 'getSourceForIngest' | 'listEndpointRoutes'>;
  publisher: MessagePublisher;
}): InboundForwarder {
  // Reads of a project's endpoints in flight, shared by the events of one routing pass. Never kept
  // once answered: a pass starts after its events were committed, so a read it starts sees every
  // endpoint the events' inserts saw; a kept answer could predate an endpoint.
  const reading = new Map<ProjectId, Promise<boolean>>();
  function hasEndpoints(projectId: ProjectId): Promise<boolean> {
    let read = reading.get(projectId);
    if (!read) {
      read = deps.store.listEndpointRoutes(projectId).then((routes) => routes.length > 0);
      reading.set(projectId, read);
      const forget = () => reading.delete(projectId);
      read.then(forget, forget);
    }
    return read;
  }
  async function read(projectId: ProjectId, eventId: EventId) {
    const event = await deps.store.getInboundEvent(projectId, eventId);
    if (!event) return null;
    const source = await deps.store.getSourceForIngest(event.sourceId);
    return { event, provider: source?.provider ?? null };
  }
  return {
    name: 'forwarder',
    hasFollowUp: () => false,
    async handle({ event: summary, projectId, tenantId }) {
      // Another subscriber asked for this project's events: no endpoint, no message.
      if (!(await hasEndpoints(projectId))) return;
      const found = await read(projectId, summary.id);
      if (!found) return;
      await deps.publisher.publish({
        projectId,
        eventType: forwardedEventType(found.provider, found.event.eventType),
        objectType: FORWARDED_OBJECT_TYPE,
        payload: forwardedPayload(found.event, found.provider, tenantId),
        ...(tenantId ? { credentialId: tenantId } : {}),
        idempotencyKey: `inbound:${found.event.id}`,
      });
    },
    async forwardAgain(projectId, eventId, options = {}) {
      const found = await read(projectId, eventId);
      if (!found) throw notFound(`event ${eventId}`);
      const { event, provider } = found;
      if (event.status !== 'routed') {
        throw new HookyardError(
          'conflict',
          event.status === 'unrouted'
            ? `event ${eventId} is unrouted: only routed events are forwarded; bind its routing key to a tenant first (POST …/sources/{sourceId}/tenants).`
            : `event ${eventId} is not routed yet: only routed events are forwarded; its routing job is ${event.processStatus}${event.processStatus === 'failed' ? ' (replay it without endpointId to route it again)' : ''}.`,
        );
      }
      const eventType = forwardedEventType(provider, event.eventType);
      let excludeEndpointIds: EndpointId[] = [];
      if (options.endpointId) {
        const routes = await deps.store.listEndpointRoutes(projectId);
        const target = routes.find((r) => r.id === options.endpointId);
        if (!target) throw notFound(`endpoint ${options.endpointId}`);
        if (!matchesEndpointFilters(target, { type: eventType, objectType: FORWARDED_OBJECT_TYPE })) {
          throw new HookyardError(
            'conflict',
            `endpoint ${options.endpointId} does not take event type "${eventType}" (its eventTypes and objectTypes filters refuse it).`,
          );
        }
        excludeEndpointIds = routes.filter((r) => r.id !== options.endpointId).map((r) => r.id);
      }
      const result = await deps.publisher.publish({
        projectId,
        eventType,
        objectType: FORWARDED_OBJECT_TYPE,
        payload: forwardedPayload(event, provider, event.tenantId),
        ...(event.tenantId ? { credentialId: event.tenantId } : {}),
        ...(excludeEndpointIds.length > 0 ? { excludeEndpointIds } : {}),
      });
      return { messageId: result.id, deliveries: result.deliveries };
    },
  };
}
