/**
 * The column order of the tables the hot paths write positional rows into (messages, deliveries,
 * attempts): the row builders (messages.ts, outcomes.ts) and both dialects' statements follow it.
 */
export const MESSAGE_COLUMNS =
  'id, project_id, event_type, object_type, credential_id, user_id, ordering_key, idempotency_key, body, created_at_ms, delivery_ids';
export const DELIVERY_COLUMNS =
  'id, project_id, message_id, endpoint_id, ordering_key, status, attempt_count, schedule_position, next_attempt_at_ms, last_attempt_at_ms, last_status_code, last_failure_kind, created_at_ms, updated_at_ms, leased_until_ms';
export const ATTEMPT_COLUMNS =
  'id, project_id, delivery_id, message_id, endpoint_id, attempt_number, started_at_ms, duration_ms, outcome, status_code, error_kind, error_message, response_headers, response_body, response_body_truncated, next_attempt_at_ms';

export const MESSAGE_FIELDS = MESSAGE_COLUMNS.split(', ');
export const DELIVERY_FIELDS = DELIVERY_COLUMNS.split(', ');
export const ATTEMPT_FIELDS = ATTEMPT_COLUMNS.split(', ');
/** A message as read back (MessageRow): its delivery list stays in the store. */
export const MESSAGE_READ_COLUMNS = MESSAGE_FIELDS.filter((c) => c !== 'delivery_ids').join(', ');
