import type { Clock } from '../domain/clock.ts';
import { HookyardError } from '../domain/errors.ts';
import { matchesEndpointFilters } from '../domain/event-type-filter.ts';
import { type EndpointId, type MessageId, newId, type ProjectId } from '../domain/ids.ts';
import type { ClaimedDelivery, EndpointRoute, NewMessage } from '../store/delivery-store.ts';
import { GroupCommit } from '../store/group-commit.ts';
import type { Store } from '../store/store.ts';
import { localDeliveryWorker, wakeDeliveryWorkers } from './delivery-wakeup.ts';

/**
 * Publishing: one message becomes one delivery per matching endpoint, all in one transaction,
 * and the delivery workers are woken after the commit. Independent of HTTP: the messages API
 * and the inbound router (forwarding routed events) both call `publish`.
 *
 * Matching: an endpoint gets the message when its `eventTypes` and `objectTypes` filters accept
 * it (src/domain/event-type-filter.ts; no filter = everything). Endpoints that are disabled (by
 * the project or by health) get a delivery that is failed at once without an attempt, so
 * `recover` can replay what they missed once they are enabled again.
 *
 * The envelope (the body every endpoint receives) is Paradym's shape:
 * `{ webhookId, webhookPublishedAt, projectId, eventType, payload, credentialId?, userId? }`.
 */

export interface PublishInput {
  projectId: ProjectId;
  eventType: string;
  payload: unknown;
  /** Matched against endpoints' objectTypes; defaults to the payload's string `objectType` field. */
  objectType?: string;
  credentialId?: string;
  userId?: string;
  /** Within 24 h, a second publish with the same key returns the first message and creates nothing. */
  idempotencyKey?: string;
  /** Messages with the same key go to each endpoint one at a time, in publish order. */
  orderingKey?: string;
  /** Endpoints never to deliver this message to (an `endpoint.disabled` notice skips its subject). */
  excludeEndpointIds?: readonly EndpointId[];
}

export interface PublishResult {
  id: MessageId;
  /** True when the idempotency key matched an earlier message; nothing new was created. */
  duplicate: boolean;
  /** Deliveries created (0 for a duplicate). */
  deliveries: number;
}

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
export const MAX_MESSAGE_BODY_BYTES = 1024 * 1024;
export const EVENT_TYPE_PATTERN = '^[A-Za-z0-9_\\-:/]+(\\.[A-Za-z0-9_\\-:/]+)*$';
const EVENT_TYPE = new RegExp(EVENT_TYPE_PATTERN);

function invalid(detail: string): HookyardError {
  return new HookyardError('validation_failed', detail);
}

function checkText(name: string, value: string | undefined, max: number): void {
  if (value !== undefined && (typeof value !== 'string' || value.length === 0 || value.length > max)) {
    throw invalid(`${name} must be a string of 1 to ${max} characters.`);
  }
}

/** Builds the stored message and its deliveries; throws validation_failed naming the field. */
export function prepareMessage(
  input: PublishInput,
  routes: readonly EndpointRoute[],
  nowMs: number,
): NewMessage {
  if (
    typeof input.eventType !== 'string' ||
    input.eventType.length > 256 ||
    !EVENT_TYPE.test(input.eventType)
  ) {
    throw invalid(
      'eventType must be dot-separated segments of letters, digits, "_", "-", ":" or "/" (at most 256 characters), e.g. "invoice.paid".',
    );
  }
  checkText('objectType', input.objectType, 256);
  checkText('credentialId', input.credentialId, 256);
  checkText('userId', input.userId, 256);
  checkText('idempotencyKey', input.idempotencyKey, 256);
  checkText('orderingKey', input.orderingKey, 256);
  const id = newId('message', nowMs);
  const envelope: Record<string, unknown> = {
    webhookId: id,
    webhookPublishedAt: new Date(nowMs).toISOString(),
    projectId: input.projectId,
    eventType: input.eventType,
    payload: input.payload,
  };
  if (input.credentialId !== undefined) envelope.credentialId = input.credentialId;
  if (input.userId !== undefined) envelope.userId = input.userId;
  const body = JSON.stringify(envelope);
  if (body === undefined || input.payload === undefined) throw invalid('payload must be a JSON value.');
  if (Buffer.byteLength(body) > MAX_MESSAGE_BODY_BYTES) {
    throw invalid(`payload makes a message body over ${MAX_MESSAGE_BODY_BYTES} bytes.`);
  }
  const payloadObjectType =
    input.payload !== null && typeof input.payload === 'object' && !Array.isArray(input.payload)
      ? (input.payload as { objectType?: unknown }).objectType
      : undefined;
  const objectType =
    input.objectType ?? (typeof payloadObjectType === 'string' ? payloadObjectType : undefined);
  const exclude = new Set(input.excludeEndpointIds ?? []);
  const deliveries: Array<NewMessage['deliveries'][number]> = [];
  const userId = input.userId ?? null;
  for (const route of routes) {
    if (exclude.has(route.id)) continue;
    // A user's endpoint gets that user's messages only; a project-wide one gets every message.
    if (route.userId !== null && route.userId !== userId) continue;
    const filters = { eventTypes: route.eventTypes, objectTypes: route.objectTypes };
    if (!matchesEndpointFilters(filters, { type: input.eventType, ...(objectType ? { objectType } : {}) })) {
      continue;
    }
    deliveries.push({
      id: newId('delivery', nowMs),
      endpointId: route.id,
      status: route.active ? 'pending' : 'failed',
    });
  }
  return {
    message: {
      id,
      projectId: input.projectId,
      eventType: input.eventType,
      objectType: objectType ?? null,
      credentialId: input.credentialId ?? null,
      userId: input.userId ?? null,
      orderingKey: input.orderingKey ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      body,
      createdAtMs: nowMs,
    },
    deliveries,
    ...(input.idempotencyKey !== undefined ? { idempotencyNotBeforeMs: nowMs - IDEMPOTENCY_WINDOW_MS } : {}),
  };
}

export interface Publisher {
  publish(input: PublishInput): Promise<PublishResult>;
  /** Waits for queued publishes to commit; later publishes are refused. */
  close(): Promise<void>;
}

interface Queued {
  input: PublishInput;
  resolve: (r: PublishResult) => void;
  reject: (e: unknown) => void;
}

/**
 * A publisher with group commit (src/store/group-commit.ts): publishes that arrive together share
 * one transaction and each resolves after it commits. One batch commits at a time.
 */
export function createPublisher(
  deps: { store: Store; clock: Clock },
  options: { maxBatch?: number; maxBatchDeliveries?: number } = {},
): Publisher {
  const { store, clock } = deps;
  const maxBatch = options.maxBatch ?? 256;
  const maxBatchDeliveries = options.maxBatchDeliveries ?? 512;
  let closed = false;

  async function flushBatch(batch: Queued[]): Promise<void> {
    const nowMs = clock.nowMs();
    const routesByProject = new Map<ProjectId, EndpointRoute[]>();
    const prepared: Array<{ q: Queued; message: NewMessage }> = [];
    for (const q of batch) {
      try {
        let routes = routesByProject.get(q.input.projectId);
        if (!routes) {
          routes = await store.listEndpointRoutes(q.input.projectId);
          routesByProject.set(q.input.projectId, routes);
        }
        prepared.push({ q, message: prepareMessage(q.input, routes, nowMs) });
      } catch (err) {
        q.reject(err);
      }
    }
    // One transaction holds at most maxBatchDeliveries deliveries (a message with more gets one
    // of its own): on SQLite every write goes through one writer thread, and a batch of 256
    // messages fanned out to ten endpoints each held it for over 10 ms, while the delivery
    // worker's claims and outcomes waited behind it.
    let start = 0;
    while (start < prepared.length) {
      let end = start;
      let rows = 0;
      while (end < prepared.length) {
        const n = (prepared[end] as { message: NewMessage }).message.deliveries.length;
        if (end > start && rows + n > maxBatchDeliveries) break;
        rows += n;
        end++;
      }
      await commitChunk(prepared.slice(start, end), nowMs, routesByProject);
      start = end;
    }
  }

  async function commitChunk(
    chunk: Array<{ q: Queued; message: NewMessage }>,
    nowMs: number,
    routesByProject: ReadonlyMap<ProjectId, readonly EndpointRoute[]>,
  ): Promise<void> {
    try {
      const results = await commitMessages(
        store,
        nowMs,
        chunk.map((p) => p.message),
        routesByProject,
      );
      chunk.forEach((p, i) => {
        p.q.resolve(results[i] as PublishResult);
      });
    } catch (err) {
      for (const p of chunk) p.q.reject(err);
    }
  }

  const batches = new GroupCommit<Queued>({ commit: flushBatch, maxBatch });

  return {
    publish(input) {
      if (closed) return Promise.reject(new HookyardError('shutting_down', 'The publisher is closed.'));
      return new Promise<PublishResult>((resolve, reject) => {
        batches.add({ input, resolve, reject });
      });
    },
    async close() {
      closed = true;
      await batches.idle();
    },
  };
}

/**
 * Publishes one message in its own transaction and wakes the workers. For callers without a
 * long-lived Publisher; under load, share one `createPublisher` so publishes commit in groups.
 */
export async function publishMessage(
  store: Store,
  clock: Clock,
  input: PublishInput,
): Promise<PublishResult> {
  const nowMs = clock.nowMs();
  const routes = await store.listEndpointRoutes(input.projectId);
  const message = prepareMessage(input, routes, nowMs);
  const [result] = await commitMessages(store, nowMs, [message], new Map([[input.projectId, routes]]));
  if (!result) throw new Error('store returned no result for the message');
  return result;
}

/**
 * Stores prepared messages in one transaction, then starts their delivery: deliveries the
 * process's own worker has room for are stored already leased and handed to it after the commit
 * (no claim needed); for the rest the workers are woken (in-process signal, NOTIFY).
 */
async function commitMessages(
  store: Store,
  nowMs: number,
  messages: NewMessage[],
  routesByProject: ReadonlyMap<ProjectId, readonly EndpointRoute[]>,
): Promise<PublishResult[]> {
  const local = localDeliveryWorker(store);
  // What the local worker needs to know to leave a limited endpoint to its lease holder.
  const limited = new Set<EndpointId>();
  if (local)
    for (const routes of routesByProject.values()) for (const r of routes) if (r.limited) limited.add(r.id);
  const reservations: Array<Array<{ projectId: ProjectId; endpointId: EndpointId }>> = messages.map(() => []);
  let unleased = 0;
  messages.forEach((m, i) => {
    for (const d of m.deliveries) {
      if (d.status !== 'pending') continue;
      // Ordered messages always go through a claim, which keeps them in publish order.
      if (
        local &&
        m.message.orderingKey === null &&
        local.reserve(m.message.projectId, d.endpointId, limited.has(d.endpointId))
      ) {
        d.leasedUntilMs = nowMs + local.leaseMs;
        reservations[i]?.push({ projectId: m.message.projectId, endpointId: d.endpointId });
      } else {
        unleased++;
      }
    }
  });
  let results: Array<{ id: MessageId; duplicate: boolean }>;
  try {
    results = await store.insertMessages(messages);
  } catch (err) {
    if (local) local.cancel(reservations.flat());
    throw err;
  }
  const handOff: ClaimedDelivery[] = [];
  const out = messages.map((m, i): PublishResult => {
    const r = results[i];
    if (!r) throw new Error('store returned fewer results than messages');
    if (r.duplicate) {
      if (local) local.cancel(reservations[i] ?? []);
      return { id: r.id, duplicate: true, deliveries: 0 };
    }
    const routes = routesByProject.get(m.message.projectId) ?? [];
    for (const d of m.deliveries) {
      if (d.leasedUntilMs === undefined) continue;
      const route = routes.find((x) => x.id === d.endpointId);
      handOff.push({
        id: d.id,
        projectId: m.message.projectId,
        messageId: m.message.id,
        endpointId: d.endpointId,
        orderingKey: null,
        attemptCount: 0,
        schedulePosition: 0,
        body: m.message.body,
        credentialId: m.message.credentialId,
        userId: m.message.userId,
        endpoint: route
          ? {
              updatedAtMs: route.updatedAtMs,
              enabled: true,
              healthState: route.healthState,
              consecutiveFailures: route.consecutiveFailures,
            }
          : null,
        retryDelaysMs: route?.retryDelaysMs ?? null,
        egressAllow: route?.egressAllow ?? null,
      });
    }
    return { id: r.id, duplicate: false, deliveries: m.deliveries.length };
  });
  if (local && handOff.length > 0) local.handOff(handOff);
  if (unleased > 0 && results.some((r) => !r.duplicate)) wakeDeliveryWorkers(store);
  return out;
}
