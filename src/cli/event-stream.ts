import { EventSource, type EventSourceFetchInit } from 'eventsource';
import { ApiError } from './cli-errors.ts';
import type { ClientTarget } from './client-config.ts';

/** The fields of the stream's events the commands read (docs/api.md describes them all). */
export interface StreamedInboundEvent {
  id: string;
  sourceId: string;
  eventType: string | null;
  status: string;
  bodyBytes: number;
  receivedAt: string;
}
export interface StreamedRefusal {
  id: string;
  sourceId: string;
  reasonCode: string;
  reason: string;
  status: number;
  receivedAt: string;
}
export type StreamedEvent =
  | { kind: 'inbound.event'; data: StreamedInboundEvent }
  | { kind: 'inbound.refused'; data: StreamedRefusal };

export interface EventStreamHandle {
  close(): void;
  /** Settles when the stream ends for good (closed, or refused by the server). */
  done: Promise<void>;
}

/**
 * The project's live stream (GET …/stream) through the `eventsource` client: it sends the bearer
 * key as a header (never in the URL), and after a dropped connection it reconnects by itself with
 * Last-Event-ID, so nothing that landed meanwhile is missed. A refusal by the server (401, 404,
 * 429) ends the stream with an ApiError.
 */
export function openEventStream(
  target: ClientTarget,
  projectId: string,
  query: Record<string, string | undefined>,
  handlers: {
    onOpen?: () => void;
    onEvent: (e: StreamedEvent) => void;
    onDisconnect?: (message: string) => void;
  },
): EventStreamHandle {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
  const url = `${target.url}/api/v1/projects/${projectId}/stream${params.size ? `?${params}` : ''}`;
  let lastRefusal: ApiError | null = null;
  const authFetch = async (input: string | URL, init: EventSourceFetchInit) => {
    const res = await fetch(input, {
      ...init,
      headers: { ...(init.headers ?? {}), authorization: `Bearer ${target.key}` },
    });
    if (res.status !== 200) {
      const text = await res.clone().text();
      try {
        const body = JSON.parse(text) as { code: string; detail: string };
        lastRefusal = new ApiError(res.status, body.code, body.detail);
      } catch {
        lastRefusal = new ApiError(res.status, String(res.status), text.slice(0, 200));
      }
    }
    return res;
  };
  const es = new EventSource(url, { fetch: authFetch });
  let finish: (err?: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finish = (err) => (err ? reject(err) : resolve());
  });
  es.addEventListener('open', () => handlers.onOpen?.());
  for (const kind of ['inbound.event', 'inbound.refused'] as const) {
    es.addEventListener(kind, (e) => {
      handlers.onEvent({ kind, data: JSON.parse((e as MessageEvent).data) } as StreamedEvent);
    });
  }
  es.addEventListener('error', (e) => {
    if (es.readyState === EventSource.CLOSED) {
      finish(
        lastRefusal ?? new ApiError(0, 'stream_closed', (e as { message?: string }).message ?? 'closed'),
      );
      return;
    }
    handlers.onDisconnect?.((e as { message?: string }).message ?? 'connection lost');
  });
  return {
    close() {
      es.close();
      finish();
    },
    done,
  };
}
