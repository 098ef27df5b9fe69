import type { Clock } from '../domain/clock.ts';
import type { ProjectId } from '../domain/ids.ts';
import type { InboundEventRecord, PendingInboundEvent } from '../store/inbound-store.ts';
import type { Store } from '../store/store.ts';
import type { RoutedEventHandler } from './inbound-router.ts';

/** What the forwarder needs from the outbound side: publishing one message (group-committed). */
export interface MessagePublisher {
  publish(input: {
    projectId: ProjectId;
    eventType: string;
    payload: unknown;
    objectType?: string;
    credentialId?: string;
    idempotencyKey?: string;
  }): Promise<unknown>;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The body as the forwarded payload carries it: parsed JSON, else text, else base64. */
function bodyForPayload(e: InboundEventRecord): { body?: unknown; bodyText?: string; bodyBase64?: string } {
  if (e.jsonValid) {
    try {
      return { body: JSON.parse(e.body.toString('utf8')) };
    } catch {}
  }
  try {
    return { bodyText: UTF8.decode(e.body) };
  } catch {
    return { bodyBase64: e.body.toString('base64') };
  }
}

/**
 * Routed inbound events become messages to the project's endpoints (DESIGN: "the way of one
 * event", step 3): event type `{provider}.{provider's event type}` (`stripe.invoice.paid`,
 * `github.issues`; `custom.…` for sources without a preset, `….event` when the provider gave no
 * type), object type `inbound_event`, tagged with the tenant as credentialId. The message's
 * idempotency key is the inbound event id, so a router retry (a lease that expired mid-way) does not
 * publish twice.
 */
export function createInboundForwarder(deps: {
  store: Pick<Store, 'getInboundEvent' | 'getSourceForIngest'>;
  publisher: MessagePublisher;
}): RoutedEventHandler {
  return async (summary: PendingInboundEvent, tenantId: string | null) => {
    const [event, source] = await Promise.all([
      deps.store.getInboundEvent(summary.projectId, summary.id),
      deps.store.getSourceForIngest(summary.sourceId),
    ]);
    if (!event) return;
    const eventType = `${source?.provider ?? 'custom'}.${summary.eventType ?? 'event'}`.replace(
      /[^A-Za-z0-9_\-:/.]/g,
      '_',
    );
    await deps.publisher.publish({
      projectId: summary.projectId,
      eventType,
      objectType: 'inbound_event',
      payload: {
        object: 'inbound_event',
        eventId: event.id,
        sourceId: event.sourceId,
        provider: source?.provider ?? null,
        providerEventId: event.providerEventId,
        eventType: event.eventType,
        tenantId,
        receivedAt: new Date(event.receivedAtMs).toISOString(),
        ...bodyForPayload(event),
      },
      ...(tenantId ? { credentialId: tenantId } : {}),
      idempotencyKey: `inbound:${event.id}`,
    });
  };
}

/**
 * Answers, without waiting, whether a project has endpoints to forward to: ingest asks it for every
 * request, so it reads a cache (5 s) and refreshes in the background. Unknown projects answer true
 * until known: a routing job too many costs one pass of the router; one too few would lose a
 * forward.
 */
export function createEndpointPresence(
  listRoutes: (projectId: ProjectId) => Promise<unknown[]>,
  clock: Clock,
  ttlMs = 5000,
) {
  const known = new Map<ProjectId, { has: boolean; expiresAtMs: number; refreshing: boolean }>();
  function refresh(projectId: ProjectId): void {
    const entry = known.get(projectId);
    if (entry?.refreshing) return;
    if (entry) entry.refreshing = true;
    listRoutes(projectId).then(
      (routes) =>
        known.set(projectId, {
          has: routes.length > 0,
          expiresAtMs: clock.nowMs() + ttlMs,
          refreshing: false,
        }),
      () => known.delete(projectId),
    );
  }
  return {
    hasEndpoints(projectId: ProjectId): boolean {
      const entry = known.get(projectId);
      if (!entry) {
        known.set(projectId, { has: true, expiresAtMs: 0, refreshing: false });
        refresh(projectId);
        return true;
      }
      if (entry.expiresAtMs <= clock.nowMs()) refresh(projectId);
      return entry.has;
    },
    /** An endpoint was created or removed in this process: forget what was known. */
    invalidate(projectId: ProjectId): void {
      known.delete(projectId);
    },
  };
}
