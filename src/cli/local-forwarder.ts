import { createSigningKey, signStandardWebhook } from '../delivery/signer.ts';
import type { ApiClient } from './api-client.ts';

/** What became of one forwarded event. */
export interface ForwardResult {
  eventId: string;
  eventType: string | null;
  sourceId: string;
  status: number;
  durationMs: number;
  /** Connection attempts that failed before this one answered. */
  retries: number;
}

export interface LocalForwarder {
  /** Queues an event from the stream; events are forwarded one at a time, in order. */
  enqueue(event: { id: string; eventType: string | null; sourceId: string }): void;
  /** Resolves when everything queued has been forwarded (or stop was called). */
  idle(): Promise<void>;
  stop(): void;
}

// Headers that describe the original connection, not the event; the local request has its own.
const HOP_BY_HOP = new Set([
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'proxy-authorization',
  'proxy-connection',
]);
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * Forwards streamed events to a local URL, as `stripe listen` does: the event's stored body and
 * headers (credential headers stay redacted as stored), re-signed with Standard Webhooks headers
 * under a local secret. The POST leaves from this machine, so only the developer's own network
 * decides what it may reach. While the receiver cannot be reached the event is retried with
 * backoff, and later events wait behind it, so none is skipped and the order holds.
 */
export function createLocalForwarder(deps: {
  api: ApiClient;
  projectId: string;
  forwardTo: string;
  secret: string;
  onResult: (r: ForwardResult) => void;
  /** The receiver could not be reached; the event is retried after `retryInMs`. */
  onWaiting: (eventId: string, message: string, retryInMs: number) => void;
  onError: (eventId: string, message: string) => void;
}): LocalForwarder {
  const key = createSigningKey(deps.secret);
  const queue: Array<{ id: string; eventType: string | null; sourceId: string }> = [];
  let running = false;
  let stopped = false;
  let idleWaiters: Array<() => void> = [];

  async function forwardOne(e: { id: string; eventType: string | null; sourceId: string }): Promise<void> {
    const detail = await deps.api.request<{
      headers: Record<string, string | string[]>;
      body: string | null;
      bodyBase64: string | null;
    }>('GET', `/api/v1/projects/${deps.projectId}/events/${e.id}`);
    const body =
      detail.bodyBase64 !== null ? Buffer.from(detail.bodyBase64, 'base64') : Buffer.from(detail.body ?? '');
    let retries = 0;
    let waitMs = FIRST_RETRY_MS;
    while (!stopped) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(detail.headers)) {
        if (!HOP_BY_HOP.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      Object.assign(
        headers,
        signStandardWebhook({
          msgId: e.id,
          timestampSeconds: Math.floor(Date.now() / 1000),
          body,
          keys: [key],
        }),
        { 'hookyard-event-id': e.id, 'hookyard-source-id': e.sourceId },
      );
      const started = performance.now();
      try {
        const res = await fetch(deps.forwardTo, { method: 'POST', headers, body, redirect: 'manual' });
        await res.arrayBuffer().catch(() => undefined);
        deps.onResult({
          eventId: e.id,
          eventType: e.eventType,
          sourceId: e.sourceId,
          status: res.status,
          durationMs: Math.round(performance.now() - started),
          retries,
        });
        return;
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        deps.onWaiting(e.id, cause?.code ?? cause?.message ?? (err as Error).message, waitMs);
        retries++;
        await new Promise((r) => setTimeout(r, waitMs));
        waitMs = Math.min(waitMs * 2, MAX_RETRY_MS);
      }
    }
  }

  async function drain(): Promise<void> {
    if (running) return;
    running = true;
    while (queue.length > 0 && !stopped) {
      const next = queue.shift() as (typeof queue)[number];
      try {
        await forwardOne(next);
      } catch (err) {
        deps.onError(next.id, (err as Error).message);
      }
    }
    running = false;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  return {
    enqueue(event) {
      queue.push(event);
      void drain();
    },
    idle() {
      if (!running && queue.length === 0) return Promise.resolve();
      return new Promise((r) => idleWaiters.push(r));
    },
    stop() {
      stopped = true;
      queue.length = 0;
    },
  };
}
