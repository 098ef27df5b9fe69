import type { NewInboundEvent } from '../inbound-store.ts';
import type { SqlValue } from './sql-executor.ts';

/**
 * An inbound event as a row of values: the inbound_events columns the ingest path writes, the
 * positions a write reads back, and the row made from an event. Both databases insert these rows.
 */

/**
 * json_valid of a body that claims JSON and that nobody has parsed: it is checked when the event is
 * read (inbound-queries.ts), not on the ingest path.
 */
export const JSON_UNCHECKED = -1;

export const EVENT_COLUMNS =
  'id, project_id, source_id, dedupe_key, provider_event_id, event_type, method, url, headers, body, json_valid, verification, credential_id, routing_key, tenant_id, status, process_status, process_after_ms, received_at_ms';
/**
 * An event ingest decided (process_status 'done') still becomes a routing job ('pending') when its
 * project has an enabled endpoint at the insert: the check reads the endpoints committed before
 * it, by any process, so forwarding never depends on what a process has cached. SQLite makes it
 * once per batch, in the batch's transaction (sqlite-inbound-statements.ts); PostgreSQL in the
 * statement itself, for each row (inbound-queries.ts), with no extra round trip and no extra
 * parameter (a statement of PG_EVENT_STATEMENT_ROWS rows stays small enough to prepare).
 */
export const PROCESS_STATUS_AT = 16;
export const PROJECT_ID_AT = 1;
/** Where the body is in a row (a Buffer that reaches the writer thread as a Uint8Array). */
export const BODY_AT = 9;

// A source's verifier says one of a few things ("signature matched with the secret"), so the JSON
// text of each is kept rather than made again for every event.
const verificationText = new Map<string, string>();
const VERIFICATION_TEXTS_KEPT = 256;

function verificationJson(v: NewInboundEvent['verification']): string {
  if (!v.ok) return JSON.stringify(v);
  let text = verificationText.get(v.detail);
  if (text === undefined) {
    text = JSON.stringify({ ok: true, detail: v.detail });
    if (verificationText.size >= VERIFICATION_TEXTS_KEPT) verificationText.clear();
    verificationText.set(v.detail, text);
  }
  return text;
}

/**
 * An inbound event as the values of its row, in EVENT_COLUMNS order: what goes to SQLite's writer
 * thread. Arrays of values clone cheaply; an event object repeats its ~20 property names (and its
 * headers object's) in every clone, written on one thread and read on the other. The headers and
 * the verification are JSON text already. What the receiver left unchecked (whether a body that
 * claims JSON parses) is stored as JSON_UNCHECKED and checked when read. The body's hash is not
 * stored.
 */
export function toInboundEventRow(e: NewInboundEvent): SqlValue[] {
  return [
    e.id,
    e.projectId,
    e.sourceId,
    e.dedupeKey,
    e.providerEventId,
    e.eventType,
    e.method,
    e.url,
    JSON.stringify(e.headers),
    e.body,
    e.jsonValid === 'unchecked' ? JSON_UNCHECKED : e.jsonValid === null ? null : e.jsonValid ? 1 : 0,
    verificationJson(e.verification),
    e.credentialId,
    e.routingKey,
    e.decided ? e.decided.tenantId : null,
    e.decided ? e.decided.status : 'received',
    e.decided ? 'done' : 'pending',
    e.receivedAtMs,
    e.receivedAtMs,
  ];
}
