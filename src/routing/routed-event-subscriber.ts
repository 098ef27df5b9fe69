import type { ProjectId } from '../domain/ids.ts';
import type { PendingInboundEvent } from '../store/inbound-store.ts';

/**
 * One routed inbound event as a subscriber receives it: the stored event's summary (no body or
 * headers; `store.getInboundEvent` reads them when needed), its project, and the routing decision.
 */
export interface RoutedEvent {
  event: PendingInboundEvent;
  projectId: ProjectId;
  /** The tenant the event belongs to: the URL's credential, the bound tenant, or null (the project). */
  tenantId: string | null;
}

/**
 * A consumer of routed inbound events (the forwarder to endpoints, trigger subscriptions, workflow
 * triggers). Subscribers are registered when the process starts and the router hands every routed
 * event to each of them, so no consumer can miss events another one did not want.
 *
 * Delivery is at least once: when any subscriber throws, the event's routing job is retried later
 * (with backoff) and every subscriber is called again, so `handle` must be idempotent per event id.
 * After too many failures the event is set aside with the error, listed by the API and replayable.
 */
export interface RoutedEventSubscriber {
  /** Names the subscriber in logs and in the error an event set aside records. */
  readonly name: string;
  /**
   * Whether events of this project need this subscriber, answered at ingest for every request, so
   * without I/O. When no subscriber says yes (and the source has no app-level routing), the route is
   * decided at ingest and no routing job is stored. A subscriber whose interest is stored in the
   * database answers false and has the store check it in the event's own insert (see
   * `NewInboundEvent.decided`): a cache here would miss what another process committed.
   */
  hasFollowUp(projectId: ProjectId): boolean;
  handle(routed: RoutedEvent): Promise<void>;
}

/** "Is there follow-up work for this project's events?", answered from every subscriber. */
export function followUpOf(subscribers: readonly RoutedEventSubscriber[]): (projectId: ProjectId) => boolean {
  return (projectId) => subscribers.some((s) => s.hasFollowUp(projectId));
}
