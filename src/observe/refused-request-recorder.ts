import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import { newId, type ProjectId } from '../domain/ids.ts';
import type { RefusalReasonCode, RefusedRequestRecord } from '../store/console-store.ts';
import type { Store } from '../store/store.ts';

/** What the ingest path reports about a request it refused before storing it. */
export interface Refusal {
  projectId: ProjectId | null;
  sourceId: string;
  reasonCode: Exclude<RefusalReasonCode, 'not_recorded'>;
  reason: string;
  status: number;
  method: string;
  /** The request target; only its path is kept (a query string may carry a credential). */
  url: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string | undefined;
  /** The body when it was read; null when refused before reading it. */
  body: Buffer | null;
}

export interface RefusedRequestRecorder {
  /** Queues the refusal; never waits and never throws (the ingest path calls it). */
  record(refusal: Refusal): void;
  /** Writes what is queued (and the count of what was dropped). */
  flush(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

export interface RecorderOptions {
  /** Refusals kept in memory awaiting a write; beyond it they are counted, not kept. */
  maxBuffered: number;
  flushIntervalMs: number;
  retentionMs: number;
  keepPerSource: number;
}

// Headers that tell senders apart without carrying a credential; the others are listed by name only.
const KEPT_HEADERS = ['content-type', 'content-length', 'user-agent', 'x-forwarded-for'] as const;
const MAX_VALUE_CHARS = 256;
const MAX_NAMES_CHARS = 1024;
const AGE_PRUNE_EVERY_MS = 60_000;

function declaredBytes(headers: IncomingHttpHeaders): number {
  const n = Number(headers['content-length']);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

function metadataOf(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const v = headers[name];
    if (v !== undefined) out[name] = String(v).slice(0, MAX_VALUE_CHARS);
  }
  out.headerNames = Object.keys(headers).sort().join(',').slice(0, MAX_NAMES_CHARS);
  return out;
}

/**
 * Records refused inbound requests off the request path: `record` only appends to a bounded
 * buffer, and a timer writes the buffer in one transaction. Under a flood the buffer fills and
 * later refusals are counted per source instead; the count is written as one `not_recorded` row,
 * so what was dropped stays visible. Each write also trims the sources it touched to their newest
 * `keepPerSource` rows; rows older than `retentionMs` are deleted once a minute.
 */
export function createRefusedRequestRecorder(
  deps: { store: Store; clock: Clock; logger: Logger; onWritten?: () => void },
  options: RecorderOptions,
): RefusedRequestRecorder {
  const { store, clock, logger } = deps;
  let buffer: RefusedRequestRecord[] = [];
  let dropped = new Map<string, { projectId: ProjectId | null; count: number }>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | null = null;
  let lastAgePruneMs = 0;

  async function write(): Promise<void> {
    const rows = buffer;
    const drops = dropped;
    buffer = [];
    dropped = new Map();
    const nowMs = clock.nowMs();
    for (const [sourceId, d] of drops) {
      rows.push({
        id: newId('refusedRequest', nowMs),
        projectId: d.projectId,
        sourceId,
        reasonCode: 'not_recorded',
        reason: `${d.count} refused request(s) were not recorded: the buffer of ${options.maxBuffered} was full`,
        status: 0,
        method: '',
        path: '',
        metadata: {},
        remoteAddress: null,
        bodyBytes: 0,
        bodySha256: null,
        count: d.count,
        receivedAtMs: nowMs,
      });
    }
    if (rows.length === 0) return;
    try {
      await store.insertRefusedRequests(rows);
      const ageDue = nowMs - lastAgePruneMs >= AGE_PRUNE_EVERY_MS;
      if (ageDue) lastAgePruneMs = nowMs;
      await store.pruneRefusedRequests({
        olderThanMs: ageDue ? nowMs - options.retentionMs : 0,
        keepPerSource: options.keepPerSource,
        sourceIds: [...new Set(rows.map((r) => r.sourceId))],
      });
      deps.onWritten?.();
    } catch (err) {
      logger.warn({ err, rows: rows.length }, 'refused requests not recorded: store unavailable');
    }
  }

  const recorder: RefusedRequestRecorder = {
    record(r) {
      if (buffer.length >= options.maxBuffered) {
        const d = dropped.get(r.sourceId);
        if (d) d.count++;
        else dropped.set(r.sourceId, { projectId: r.projectId, count: 1 });
        return;
      }
      const q = r.url.indexOf('?');
      buffer.push({
        id: newId('refusedRequest', clock.nowMs()),
        projectId: r.projectId,
        sourceId: r.sourceId.slice(0, 200),
        reasonCode: r.reasonCode,
        reason: r.reason.slice(0, 1000),
        status: r.status,
        method: r.method.slice(0, 16),
        path: (q === -1 ? r.url : r.url.slice(0, q)).slice(0, 512),
        metadata: metadataOf(r.headers),
        remoteAddress: r.remoteAddress ?? null,
        bodyBytes: r.body?.length ?? declaredBytes(r.headers),
        bodySha256: r.body ? createHash('sha256').update(r.body).digest('hex') : null,
        count: 1,
        receivedAtMs: clock.nowMs(),
      });
    },
    flush() {
      // One write at a time; a flush asked for during one runs after it.
      const run = (flushing ?? Promise.resolve()).then(write);
      flushing = run.finally(() => {
        if (flushing === guarded) flushing = null;
      });
      const guarded = flushing;
      return run;
    },
    start() {
      timer = setInterval(() => {
        if (buffer.length > 0 || dropped.size > 0) void recorder.flush();
      }, options.flushIntervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await recorder.flush();
    },
  };
  return recorder;
}
