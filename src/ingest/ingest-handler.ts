import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import { type ErrorCode, HookyardError, StoreUnavailableError } from '../domain/errors.ts';
import { type EventId, isId, newId, type SourceId } from '../domain/ids.ts';
import type { Exchange, RawRoute } from '../http/exchange.ts';
import type { Refusal } from '../observe/refused-request-recorder.ts';
import { decideRoute } from '../routing/inbound-router.ts';
import type { NewInboundEvent } from '../store/inbound-store.ts';
import { type CompiledSource, sha256Hex } from './compiled-source.ts';
import type { GroupCommitter } from './group-committer.ts';
import { completeHandshake, detectHandshake, type HandshakeEffect } from './handshakes/index.ts';
import type { SourceCache } from './source-cache.ts';
import type { RawRequest } from './verification/raw-request.ts';

export interface IngestDeps {
  sources: SourceCache<CompiledSource>;
  committer: GroupCommitter;
  clock: Clock;
  logger: Logger;
  publicBaseUrl: string;
  /**
   * Whether a project's events have follow-up work (forwarding to its endpoints). Without it, and
   * without app-level routing, the route is decided here and no routing job is stored.
   */
  hasFollowUp?: (projectId: CompiledSource['projectId']) => boolean;
  /** Commits what a handshake handed over (Asana's secret, Notion's token) before it is answered. */
  applyHandshakeEffect: (source: CompiledSource, effect: HandshakeEffect) => Promise<void>;
  /** Told of each request refused before storage (recorded off the request path). */
  onRefused?: (refusal: Refusal) => void;
}

// Headers that carry credentials are not stored with the event (the body and signatures are); the
// name stays, with REDACTED as its value, so the stored request shows that something was removed.
const REDACTED_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-gitlab-token'] as const;
const REDACTED = '[redacted]';

/**
 * The request's headers as stored: credential-bearing ones (the usual ones and the source's own
 * key header) redacted. Most requests carry none of them, and then Node's own headers object is
 * stored as it is (it is not changed after parsing), without a copy per request.
 */
function storedHeaders(
  all: IncomingHttpHeaders,
  sourceHeaders: readonly string[],
): Record<string, string | string[]> {
  const redacted = (name: string) =>
    (REDACTED_HEADERS as readonly string[]).includes(name) || sourceHeaders.includes(name);
  if (
    !REDACTED_HEADERS.some((name) => all[name] !== undefined) &&
    !sourceHeaders.some((name) => all[name] !== undefined)
  ) {
    return all as Record<string, string | string[]>;
  }
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(all)) {
    if (value !== undefined) kept[name] = redacted(name) ? REDACTED : value;
  }
  return kept;
}

/** The request target as stored: the source's credential query parameters' values redacted. */
function storedUrl(rawUrl: string, queryIndex: number, params: readonly string[]): string {
  if (params.length === 0 || queryIndex === -1) return rawUrl;
  const pairs = rawUrl.slice(queryIndex + 1).split('&');
  let changed = false;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i] as string;
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    // Names decoded as URLSearchParams decodes them, which is how the verifier read the token.
    const name = new URLSearchParams(`${rawName}=`).keys().next().value;
    if (name !== undefined && params.includes(name)) {
      pairs[i] = `${rawName}=${REDACTED}`;
      changed = true;
    }
  }
  return changed ? `${rawUrl.slice(0, queryIndex)}?${pairs.join('&')}` : rawUrl;
}

const CREDENTIAL_ID = /^[A-Za-z0-9_.:-]{1,200}$/;
const JSON_TYPE = /[/+]json\b/i;

// Frozen: the fast HTTP path renders a frozen headers object once.
const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json; charset=utf-8',
});

function send(res: Exchange, status: number, body: string, headers?: Record<string, string>): void {
  res.reply(status, headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS, body);
}

function sendError(
  res: Exchange,
  code: ErrorCode,
  detail: string,
  headers: Record<string, string> = {},
): void {
  const status = new HookyardError(code).status;
  send(res, status, JSON.stringify({ code, detail }), headers);
}

/**
 * The webhook receiving path, `/in/{sourceId}[/{credentialId}][?id={credentialId}]`, any method.
 * A raw route (not a Fastify route; served by the fast HTTP path where the request allows): this
 * is the hot path, and every microsecond here is a share of the throughput. The order is the
 * contract: resolve the source, bound the body, answer a handshake, verify the signature over the
 * exact bytes, commit (grouped), then 2xx.
 */
export function createIngestRoute(deps: IngestDeps): RawRoute {
  const { sources, committer, clock, logger } = deps;
  const onRefused = deps.onRefused;

  function refused(
    req: Exchange,
    source: CompiledSource | null,
    sourceId: string,
    reasonCode: Refusal['reasonCode'],
    reason: string,
    status: number,
    body: Buffer | null,
  ): void {
    onRefused?.({
      projectId: source?.projectId ?? null,
      sourceId: source?.id ?? sourceId,
      reasonCode,
      reason,
      status,
      method: req.method,
      url: req.url,
      headers: req.headers,
      remoteAddress: req.remoteAddress,
      body,
    });
  }

  async function handle(req: Exchange): Promise<void> {
    // One object both reads the request and sends the answer; `res` where it answers.
    const res = req;
    const rawUrl = req.url;
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const segments = path.slice(4).split('/');
    const sourceId = segments[0] ?? '';
    // A cached source's id is known to be well formed; only a miss needs the shape checked.
    let source = segments.length > 2 ? undefined : sources.peek(sourceId as SourceId);
    if (!source && (!isId('source', sourceId) || segments.length > 2)) {
      sendError(res, 'not_found', `No source at ${path}; ingest URLs look like /in/src_….`);
      return;
    }
    if (source === undefined) {
      try {
        source = await sources.get(sourceId as SourceId);
      } catch (err) {
        unavailable(res, err);
        return;
      }
    }
    if (!source) {
      sendError(res, 'not_found', `Source ${sourceId} was not found.`);
      refused(req, null, sourceId, 'unknown_source', `source ${sourceId} does not exist`, 404, null);
      return;
    }

    let credentialId: string | null = null;
    if (segments[1]) {
      try {
        credentialId = decodeURIComponent(segments[1]);
      } catch {
        sendError(
          res,
          'validation_failed',
          'The credential id in the URL has a malformed percent-escape; expected [A-Za-z0-9_.:-]{1,200}.',
        );
        refused(req, source, sourceId, 'invalid_credential_id', 'malformed credential id', 400, null);
        return;
      }
    }
    if (!credentialId && q !== -1) credentialId = new URLSearchParams(rawUrl.slice(q + 1)).get('id');
    if (credentialId !== null && !CREDENTIAL_ID.test(credentialId)) {
      sendError(res, 'validation_failed', 'The credential id in the URL must match [A-Za-z0-9_.:-]{1,200}.');
      refused(req, source, sourceId, 'invalid_credential_id', 'malformed credential id', 400, null);
      return;
    }

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > source.maxBodyBytes) {
      tooLarge(res, source);
      refused(req, source, sourceId, 'payload_too_large', `over ${source.maxBodyBytes} bytes`, 413, null);
      return;
    }
    const read = req.readBody(source.maxBodyBytes);
    const body = read instanceof Promise ? await read : read;
    if (body === null) {
      tooLarge(res, source);
      refused(req, source, sourceId, 'payload_too_large', `over ${source.maxBodyBytes} bytes`, 413, null);
      return;
    }

    const nowMs = clock.nowMs();
    const url = source.publicUrl
      ? source.publicUrl + (q === -1 ? '' : rawUrl.slice(q))
      : deps.publicBaseUrl + rawUrl;
    const request: RawRequest = { method: req.method, url, headers: req.headers, body };

    const handshake = detectHandshake({
      kind: source.handshakeKind,
      settings: source.handshakeSettings,
      secrets: source.secrets,
      request,
      nowMs,
    });
    if (handshake) {
      const verification = handshake.verifyFirst ? source.verify(request, nowMs) : null;
      const done = completeHandshake(handshake, verification);
      if (done.effect) {
        try {
          await deps.applyHandshakeEffect(source, done.effect);
        } catch (err) {
          unavailable(res, err);
          return;
        }
      }
      const { status, headers, body: responseBody } = done.response;
      res.reply(status, headers, responseBody);
      if (status >= 400) {
        const reason = verification && !verification.ok ? verification.reason : responseBody.slice(0, 200);
        refused(
          req,
          source,
          sourceId,
          'handshake_failed',
          `${source.handshakeKind}: ${reason}`,
          status,
          body,
        );
      }
      logger.info(
        { sourceId, projectId: source.projectId, status, kind: source.handshakeKind },
        'handshake answered',
      );
      return;
    }

    const verification = source.verify(request, nowMs);
    if (!verification.ok) {
      logger.warn(
        {
          sourceId,
          projectId: source.projectId,
          reason: verification.reason,
          method: request.method,
          bodyBytes: body.length,
          bodySha256: sha256Hex(body),
          remoteAddress: req.remoteAddress,
          userAgent: req.headers['user-agent'],
        },
        'inbound request rejected: signature',
      );
      sendError(res, 'signature_invalid', verification.reason);
      refused(req, source, sourceId, 'signature_invalid', verification.reason, 401, body);
      return;
    }

    // The body is parsed here only when something needs its fields (event id, type, routing key)
    // or the source demands JSON; a body that merely claims JSON is stored unchecked and checked
    // when the event is read, off the request path.
    const claimsJson = JSON_TYPE.test(req.headers['content-type'] ?? '');
    let parsed: unknown;
    let jsonValid: boolean | null | 'unchecked' = claimsJson ? 'unchecked' : null;
    if (
      source.requireJson ||
      (source.needsJson && (claimsJson || (body.length > 0 && (body[0] === 0x7b || body[0] === 0x5b))))
    ) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
        jsonValid = true;
      } catch {
        jsonValid = false;
      }
    }
    if (source.requireJson && jsonValid !== true) {
      sendError(res, 'invalid_json', 'This source accepts only a JSON body, and this one does not parse.');
      refused(req, source, sourceId, 'invalid_json', 'the body is not JSON', 400, body);
      return;
    }

    const providerEventId = source.readEventId ? source.readEventId(request, parsed) : null;
    const headers = storedHeaders(req.headers, source.credentials.headers);
    const event: NewInboundEvent = {
      id: newId('event', nowMs) as EventId,
      projectId: source.projectId,
      sourceId: source.id,
      // Without a provider event id the body's hash is the dedupe key.
      dedupeKey: providerEventId === null ? `sha256:${sha256Hex(body)}` : `id:${providerEventId}`,
      providerEventId,
      eventType: source.readEventType ? source.readEventType(request, parsed) : null,
      method: request.method,
      url: storedUrl(rawUrl, q, source.credentials.queryParams),
      headers,
      body,
      jsonValid,
      verification: { ok: true, detail: verification.detail },
      credentialId,
      routingKey: source.readRoutingKey ? source.readRoutingKey(request, parsed) : null,
      receivedAtMs: nowMs,
      decided:
        source.readRoutingKey || deps.hasFollowUp?.(source.projectId)
          ? null
          : decideRoute({ credentialId, routingKey: null }, false, null),
    };
    try {
      const result = await committer.add(event);
      send(res, 200, `{"id":"${result.id}","duplicate":${result.duplicate}}`);
    } catch (err) {
      unavailable(res, err);
    }
  }

  function tooLarge(res: Exchange, source: CompiledSource): void {
    // Close the connection: the rest of the body is not read, so the socket cannot be reused.
    sendError(
      res,
      'payload_too_large',
      `The body is larger than this source's limit of ${source.maxBodyBytes} bytes.`,
      {
        connection: 'close',
      },
    );
  }

  function unavailable(res: Exchange, err: unknown): void {
    if (err instanceof StoreUnavailableError || (err as Error)?.message === 'ingest is shutting down') {
      logger.warn({ err: (err as Error).message }, 'inbound request not stored: store unavailable');
      sendError(res, 'store_unavailable', 'The event was not stored; retry later.', { 'retry-after': '5' });
      return;
    }
    logger.error({ err }, 'inbound request failed');
    sendError(res, 'internal', 'The event was not stored.');
  }

  return {
    // `/in/sub_…` is a trigger subscription's URL, received by the integrations area.
    owns: (url) => url.startsWith('/in/') && !url.startsWith('/in/sub_'),
    handle: (exchange) => {
      handle(exchange).catch((err) => unavailable(exchange, err));
    },
  };
}
