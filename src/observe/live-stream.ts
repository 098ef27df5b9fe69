import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import { matchesEventType } from '../domain/event-type-filter.ts';
import { idFloor, type ProjectId, type SourceId } from '../domain/ids.ts';
import type { RefusedRequestRecord, StreamEventRecord } from '../store/console-store.ts';
import type { Store } from '../store/store.ts';

/**
 * The live stream: each inbound event (and each refused request) of a project as it lands.
 *
 * Each open stream reads the store by cursor, every `pollIntervalMs` and at once when this
 * process commits something (`wake`). Reading the store, not an in-process bus, is what makes an
 * event stored by another Hookyard process on the same PostgreSQL show up, and costs one indexed
 * range read per stream per interval; SQLite has no cross-process notification, and a NOTIFY per
 * ingest commit would cost the hot path for the rare times someone watches.
 *
 * Ids begin with the time they were made, but a batch commits a little after its ids were made,
 * and another process's clock may differ: each read goes back `lookbackMs` before now, and the
 * ids already sent within that window are remembered so nothing is sent twice. An event that
 * becomes visible more than `lookbackMs` after its id was made is not streamed (the event log
 * lists it). A resumed stream (`Last-Event-ID`) never sends anything at or before its cursor.
 */

export type StreamKind = 'event' | 'refusal';

export interface StreamFilter {
  sourceId?: SourceId;
  /** Event type filters as endpoints take them (`invoice.*`); events without a type match only no filter. */
  types?: string[];
  kinds: readonly StreamKind[];
}

export interface StreamMessage {
  /** The SSE id: the cursor to resume from. */
  id: string;
  event: 'inbound.event' | 'inbound.refused';
  data: unknown;
}

export interface StreamSink {
  send(message: StreamMessage): void;
  heartbeat(): void;
}

export interface LiveStreamOptions {
  maxPerProject: number;
  pollIntervalMs: number;
  heartbeatMs: number;
  lookbackMs: number;
  /** Rows read per page, and pages per read: beyond them a read skips ahead. */
  pageRows: number;
  maxPages: number;
}

export const DEFAULT_STREAM_OPTIONS: Omit<LiveStreamOptions, 'maxPerProject' | 'heartbeatMs'> = {
  pollIntervalMs: 1000,
  lookbackMs: 3000,
  pageRows: 500,
  maxPages: 20,
};

const CURSOR_PART = /^(evt|rfq)_[0-9a-z]{9,64}$/;

/** A cursor: `evt_….rfq_…` (the last event and refusal sent), or a bare `evt_…`. Null when malformed. */
export function parseCursor(raw: string): { eventId: string; refusalId: string } | null {
  const parts = raw.split('.');
  if (parts.length > 2 || !parts.every((p) => CURSOR_PART.test(p))) return null;
  const event = parts.find((p) => p.startsWith('evt_'));
  const refusal = parts.find((p) => p.startsWith('rfq_'));
  const anchor = (event ?? refusal) as string;
  // Both kinds' ids start with 9 base36 characters of milliseconds.
  const ms = Number.parseInt(anchor.slice(4, 13), 36);
  return { eventId: event ?? idFloor('event', ms), refusalId: refusal ?? idFloor('refusedRequest', ms) };
}

export function eventView(e: StreamEventRecord) {
  return {
    id: e.id,
    sourceId: e.sourceId,
    eventType: e.eventType,
    providerEventId: e.providerEventId,
    status: e.status,
    tenantId: e.tenantId,
    credentialId: e.credentialId,
    method: e.method,
    bodyBytes: e.bodyBytes,
    receivedAt: new Date(e.receivedAtMs).toISOString(),
  };
}

export function refusalView(r: RefusedRequestRecord) {
  return {
    id: r.id,
    sourceId: r.sourceId,
    reasonCode: r.reasonCode,
    reason: r.reason,
    status: r.status,
    method: r.method,
    path: r.path,
    metadata: r.metadata,
    remoteAddress: r.remoteAddress,
    bodyBytes: r.bodyBytes,
    bodySha256: r.bodySha256,
    count: r.count,
    receivedAt: new Date(r.receivedAtMs).toISOString(),
  };
}

export interface LiveStreams {
  /** Opens a stream; null when the project has `maxPerProject` open in this process already. */
  open(
    projectId: ProjectId,
    filter: StreamFilter,
    cursor: { eventId: string; refusalId: string } | null,
    sink: StreamSink,
  ): { close(): void } | null;
  /** Something was committed in this process: read now rather than at the next interval. */
  wake(): void;
  /** Open streams of a project in this process. */
  openCount(projectId: ProjectId): number;
  closeAll(): void;
}

/** Ids sent within the lookback window, by kind, so a re-read does not send them again. */
class SeenWindow {
  private readonly at = new Map<string, number>();
  has(id: string): boolean {
    return this.at.has(id);
  }
  add(id: string, ms: number): void {
    this.at.set(id, ms);
  }
  forgetBefore(ms: number): void {
    for (const [id, t] of this.at) if (t < ms) this.at.delete(id);
  }
}

export function createLiveStreams(
  deps: { store: Store; clock: Clock; logger: Logger },
  options: LiveStreamOptions,
): LiveStreams {
  const { store, clock, logger } = deps;
  const open = new Map<ProjectId, Set<StreamState>>();

  interface StreamState {
    projectId: ProjectId;
    filter: StreamFilter;
    sink: StreamSink;
    /** Nothing at or below these is sent: the resume cursor, or the time the stream opened. */
    eventFloor: string;
    refusalFloor: string;
    lastEventId: string;
    lastRefusalId: string;
    seenEvents: SeenWindow;
    seenRefusals: SeenWindow;
    reading: boolean;
    again: boolean;
    closed: boolean;
    pollTimer: NodeJS.Timeout;
    heartbeatTimer: NodeJS.Timeout;
  }

  const maxId = (a: string, b: string) => (a > b ? a : b);
  const cursorOf = (s: StreamState) => `${s.lastEventId}.${s.lastRefusalId}`;

  async function readPages<T extends { id: string; receivedAtMs: number }>(
    s: StreamState,
    floor: string,
    kind: 'event' | 'refusedRequest',
    seen: SeenWindow,
    read: (afterId: string) => Promise<T[]>,
    emit: (row: T) => void,
  ): Promise<void> {
    const nowMs = clock.nowMs();
    let afterId = maxId(floor, idFloor(kind, nowMs - options.lookbackMs));
    for (let page = 0; page < options.maxPages; page++) {
      const rows = await read(afterId);
      for (const row of rows) {
        if (s.closed) return;
        if (seen.has(row.id)) continue;
        seen.add(row.id, row.receivedAtMs);
        emit(row);
      }
      if (rows.length < options.pageRows) break;
      afterId = (rows[rows.length - 1] as T).id;
    }
    seen.forgetBefore(nowMs - 2 * options.lookbackMs);
  }

  async function readOnce(s: StreamState): Promise<void> {
    const sourceFilter = s.filter.sourceId ? { sourceId: s.filter.sourceId } : {};
    if (s.filter.kinds.includes('event')) {
      await readPages(
        s,
        s.eventFloor,
        'event',
        s.seenEvents,
        (afterId) =>
          store.listStreamEvents(s.projectId, { afterId, limit: options.pageRows, ...sourceFilter }),
        (e) => {
          s.lastEventId = maxId(s.lastEventId, e.id);
          const types = s.filter.types;
          if (types && types.length > 0 && (e.eventType === null || !matchesEventType(types, e.eventType))) {
            return;
          }
          s.sink.send({ id: cursorOf(s), event: 'inbound.event', data: eventView(e) });
        },
      );
    }
    if (s.filter.kinds.includes('refusal')) {
      await readPages(
        s,
        s.refusalFloor,
        'refusedRequest',
        s.seenRefusals,
        (afterId) =>
          store.listStreamRefusals(s.projectId, { afterId, limit: options.pageRows, ...sourceFilter }),
        (r) => {
          s.lastRefusalId = maxId(s.lastRefusalId, r.id);
          s.sink.send({ id: cursorOf(s), event: 'inbound.refused', data: refusalView(r) });
        },
      );
    }
  }

  function read(s: StreamState): void {
    if (s.closed) return;
    if (s.reading) {
      s.again = true;
      return;
    }
    s.reading = true;
    readOnce(s)
      .catch((err) => logger.warn({ err, projectId: s.projectId }, 'live stream read failed; retrying'))
      .finally(() => {
        s.reading = false;
        if (s.again) {
          s.again = false;
          read(s);
        }
      });
  }

  function close(s: StreamState): void {
    if (s.closed) return;
    s.closed = true;
    clearInterval(s.pollTimer);
    clearInterval(s.heartbeatTimer);
    const set = open.get(s.projectId);
    set?.delete(s);
    if (set && set.size === 0) open.delete(s.projectId);
  }

  return {
    open(projectId, filter, cursor, sink) {
      const set = open.get(projectId) ?? new Set<StreamState>();
      if (set.size >= options.maxPerProject) return null;
      const nowMs = clock.nowMs();
      const eventFloor = cursor?.eventId ?? idFloor('event', nowMs);
      const refusalFloor = cursor?.refusalId ?? idFloor('refusedRequest', nowMs);
      const s: StreamState = {
        projectId,
        filter,
        sink,
        eventFloor,
        refusalFloor,
        lastEventId: eventFloor,
        lastRefusalId: refusalFloor,
        seenEvents: new SeenWindow(),
        seenRefusals: new SeenWindow(),
        reading: false,
        again: false,
        closed: false,
        pollTimer: setInterval(() => read(s), options.pollIntervalMs),
        heartbeatTimer: setInterval(() => sink.heartbeat(), options.heartbeatMs),
      };
      s.pollTimer.unref();
      s.heartbeatTimer.unref();
      set.add(s);
      open.set(projectId, set);
      read(s);
      return { close: () => close(s) };
    },
    wake() {
      for (const set of open.values()) for (const s of set) read(s);
    },
    openCount: (projectId) => open.get(projectId)?.size ?? 0,
    closeAll() {
      for (const set of [...open.values()]) for (const s of [...set]) close(s);
    },
  };
}
