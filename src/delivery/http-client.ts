import { EventEmitter } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import type { ConnectionOptions } from 'node:tls';
import { Agent } from 'undici';
import type { DeliveryErrorKind } from '../domain/retry-policy.ts';
import { checkDeliveryUrl, createEgressConnector, type EgressOptions } from './egress-guard.ts';

/**
 * The HTTP side of one delivery attempt: POST, bounded in time and in bytes, through the egress
 * guard, on undici's pooled dispatcher (keep-alive connections per origin).
 *
 * - Never throws for a failed attempt: every outcome is a `DeliveryHttpResult` the worker records.
 * - Redirects are not followed; a 3xx is the attempt's status (a receiver moving should update
 *   the endpoint, and following would let a redirect point around the egress guard's intent).
 * - `timeoutMs` bounds the whole attempt: DNS, connect, request, response headers and body.
 *   A timeout is a failure even when a status already arrived; the retry is safe (at-least-once).
 * - The response body is read up to `maxResponseBytes` (default 64 KiB) so small bodies end
 *   cleanly and the connection is reused; past that the response is destroyed (the connection
 *   with it) and `bodyTruncated` is set. A big body does not fail the attempt: the status is the
 *   receiver's answer. Only the first `excerptBytes` (4 KiB) are kept, as UTF-8 text.
 * - Per-project egress narrowing needs its own client (pooled connections carry the egress check
 *   they were opened under, so clients with different allow lists must not share a pool).
 */

export interface DeliveryHttpResult {
  /** True for a 2xx that arrived within the timeout. */
  readonly ok: boolean;
  readonly statusCode?: number;
  readonly durationMs: number;
  readonly responseHeaders?: Readonly<Record<string, string>>;
  /** The first `excerptBytes` of the response body as UTF-8 (incomplete trailing characters dropped). */
  readonly bodyExcerpt?: string;
  /** True when the body was longer than `maxResponseBytes` and the rest was not read. */
  readonly bodyTruncated?: boolean;
  readonly errorKind?: DeliveryErrorKind;
  readonly errorMessage?: string;
}

export interface DeliveryHttpClientOptions {
  readonly egress: EgressOptions;
  /** Concurrent connections per origin. Default 8. */
  readonly connectionsPerOrigin?: number;
  /** Idle keep-alive before a pooled connection closes. Default 30 s (receivers may ask for less). */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Per-address connect timeout, and the DNS timeout unless `egress.lookupTimeoutMs` is set. The
   * attempt's `timeoutMs` still bounds the total. Default 10 s.
   */
  readonly connectTimeoutMs?: number;
  /** Response bytes read at most. Default 64 KiB. */
  readonly maxResponseBytes?: number;
  /** Response bytes kept as the excerpt. Default 4 KiB. */
  readonly excerptBytes?: number;
  /** Response header bytes accepted; more is a `too_large` failure. Default 16 KiB. */
  readonly maxResponseHeaderBytes?: number;
  /** Sent unless the caller's headers set one. */
  readonly userAgent?: string;
  /** Extra TLS options for the connector (e.g. a private CA). */
  readonly tls?: ConnectionOptions;
}

export interface DeliveryHttpClient {
  post(
    url: string,
    headers: Readonly<Record<string, string>>,
    body: string | Uint8Array,
    options: { readonly timeoutMs: number },
  ): Promise<DeliveryHttpResult>;
  /** Closes pooled connections; waits for in-flight requests. */
  close(): Promise<void>;
}

/** Endpoint URLs whose parse the client keeps (see targetOf). */
const MAX_TARGETS = 4096;

export const DEFAULT_USER_AGENT = 'Hookyard-Webhooks/0.1';

class AttemptTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`the attempt did not complete within ${timeoutMs} ms.`);
    this.name = 'AttemptTimeoutError';
  }
}

export function createDeliveryHttpClient(options: DeliveryHttpClientOptions): DeliveryHttpClient {
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
  const excerptBytes = Math.min(options.excerptBytes ?? 4 * 1024, maxResponseBytes);
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const agent = new Agent({
    connections: options.connectionsPerOrigin ?? 8,
    pipelining: 1,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: options.keepAliveTimeoutMs ?? 30_000,
    maxHeaderSize: options.maxResponseHeaderBytes ?? 16 * 1024,
    connect: createEgressConnector({
      ...options.egress,
      connectTimeoutMs: options.connectTimeoutMs,
      lookupTimeoutMs: options.egress.lookupTimeoutMs ?? options.connectTimeoutMs,
      tls: options.tls,
    }),
  });

  // An endpoint's URL is the same string attempt after attempt: its parse and check (a URL object
  // and its getters, several µs) are kept, for up to MAX_TARGETS URLs (the oldest goes first).
  // The address check is not: it runs when a connection is made (createEgressConnector).
  const targets = new Map<string, { origin: string; path: string }>();
  function targetOf(url: string): { origin: string; path: string } {
    let target = targets.get(url);
    if (target === undefined) {
      const parsed = checkDeliveryUrl(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (targets.size >= MAX_TARGETS) targets.delete(targets.keys().next().value as string);
      targets.set(url, target);
    }
    return target;
  }

  async function post(
    url: string,
    headers: Readonly<Record<string, string>>,
    body: string | Uint8Array,
    { timeoutMs }: { readonly timeoutMs: number },
  ): Promise<DeliveryHttpResult> {
    const startedAt = performance.now();
    let target: { origin: string; path: string };
    try {
      target = targetOf(url);
    } catch (error) {
      return failure(elapsedMs(startedAt), 'invalid_url', error);
    }

    // undici takes an EventEmitter as the abort signal: an AbortController per attempt cost ~6 µs
    // of the event loop (profiled), an emitter a fraction of it. The timeout error (and its stack
    // trace) is built only when the timer fires: most attempts never do.
    const abort = new EventEmitter();
    let timedOut: AttemptTimeoutError | null = null;
    const timer = setTimeout(() => {
      timedOut = new AttemptTimeoutError(timeoutMs);
      abort.emit('abort');
    }, timeoutMs);
    let statusCode: number | undefined;
    let responseHeaders: Record<string, string> | undefined;
    try {
      const requestHeaders: Record<string, string> = { 'user-agent': userAgent };
      for (const [name, value] of Object.entries(headers)) requestHeaders[name.toLowerCase()] = value;
      const response = await agent.request({
        origin: target.origin,
        path: target.path,
        method: 'POST',
        headers: requestHeaders,
        body,
        signal: abort,
        // Our timer is the real bound; these only stop undici giving up earlier than we asked.
        headersTimeout: timeoutMs + 1_000,
        bodyTimeout: timeoutMs + 1_000,
      });
      statusCode = response.statusCode;
      responseHeaders = flattenHeaders(response.headers);
      const { excerpt, truncated } = await readExcerpt(response.body, excerptBytes, maxResponseBytes);
      const ok = statusCode >= 200 && statusCode < 300;
      return {
        ok,
        statusCode,
        durationMs: elapsedMs(startedAt),
        responseHeaders,
        bodyExcerpt: excerpt,
        ...(truncated ? { bodyTruncated: true } : {}),
      };
    } catch (error) {
      const expired = timedOut as AttemptTimeoutError | null;
      const kind = expired ? 'timeout' : classifyError(error);
      const message = expired ? expired.message : describeError(error);
      return {
        ok: false,
        ...(statusCode !== undefined ? { statusCode, responseHeaders } : {}),
        durationMs: elapsedMs(startedAt),
        errorKind: kind,
        errorMessage: message,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    post,
    close: () => agent.close(),
  };
}

/**
 * Reads a response body up to `maxBytes`, keeping the first `excerptBytes` as UTF-8 text; past
 * `maxBytes` the body is destroyed (with its connection) and `truncated` is set. Events rather
 * than an async iterator: one fewer promise per chunk on the hot path.
 */
function readExcerpt(
  body: NodeJS.ReadableStream & { destroy(error?: Error): void },
  excerptBytes: number,
  maxBytes: number,
): Promise<{ excerpt: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    let excerpt = '';
    let taken = 0;
    let read = 0;
    let done = false;
    // An inline listener rather than a named closure (see elapsedMs): a destroyed body emits no
    // more data, and `done` covers the chunk already on its way.
    body.on('data', (chunk: Buffer) => {
      if (done) return;
      if (taken < excerptBytes) {
        const part = chunk.subarray(0, excerptBytes - taken);
        excerpt += decoder.write(part);
        taken += part.length;
      }
      read += chunk.length;
      if (read > maxBytes) {
        done = true;
        body.removeListener('error', reject);
        body.on('error', () => {}); // destroying undici's body emits its abort error
        body.destroy();
        resolve({ excerpt, truncated: true });
      }
    });
    body.once('end', () => resolve({ excerpt, truncated: false }));
    body.once('error', reject);
  });
}

/**
 * Whole milliseconds since `startedAt`. A module function, not a closure per attempt: tsx keeps
 * function names, so every named closure costs a defineProperty each time it is made.
 */
function elapsedMs(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}

function failure(durationMs: number, errorKind: DeliveryErrorKind, error: unknown): DeliveryHttpResult {
  return { ok: false, durationMs, errorKind, errorMessage: describeError(error) };
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** The error and its causes, outermost first (undici and Node wrap socket errors). */
function errorChain(
  error: unknown,
): Array<{ code?: unknown; name?: unknown; kind?: unknown; message?: unknown }> {
  const chain: Array<{ code?: unknown; name?: unknown; kind?: unknown; message?: unknown }> = [];
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && chain.length < 5) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

const CODE_KINDS: Readonly<Record<string, DeliveryErrorKind>> = {
  HOOKYARD_EGRESS_BLOCKED: 'egress_blocked',
  HOOKYARD_INVALID_URL: 'invalid_url',
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  UND_ERR_SOCKET: 'connection_reset',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_FAIL: 'dns',
  EAI_NODATA: 'dns',
  EAI_NONAME: 'dns',
  ENODATA: 'dns',
  UND_ERR_HEADERS_OVERFLOW: 'too_large',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'too_large',
};

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_OSSL_)/;

export function classifyError(error: unknown): DeliveryErrorKind {
  for (const link of errorChain(error)) {
    if (typeof link.code === 'string') {
      const kind = CODE_KINDS[link.code];
      if (kind !== undefined) return kind;
      if (TLS_CODE.test(link.code)) return 'tls';
    }
  }
  return 'other';
}

function describeError(error: unknown): string {
  const parts: string[] = [];
  for (const link of errorChain(error)) {
    const text =
      typeof link.message === 'string' && link.message !== '' ? link.message : String(link.code ?? '');
    if (text !== '' && !parts.includes(text)) parts.push(text);
  }
  return parts.length > 0 ? parts.join(': ') : String(error);
}
