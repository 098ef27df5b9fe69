-- An endpoint: an outbound destination URL with its secrets, filters, limits and health.
CREATE TABLE endpoints (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  -- JSON arrays; empty = all
  event_types TEXT NOT NULL,
  object_types TEXT NOT NULL,
  -- JSON object of extra request headers
  headers TEXT NOT NULL,
  rate_limit_per_second INTEGER,
  max_concurrency INTEGER,
  timeout_ms INTEGER NOT NULL,
  signature_scheme TEXT NOT NULL,
  signature_header TEXT,
  -- sealed JSON [{ secret, notAfterMs }], current first; never returned by the API
  secrets_sealed TEXT NOT NULL,
  enabled SMALLINT NOT NULL,
  -- active | failing | disabled (src/domain/endpoint-health.ts)
  health_state TEXT NOT NULL,
  consecutive_failures INTEGER NOT NULL,
  first_failure_at_ms INTEGER,
  failed_since_success INTEGER NOT NULL,
  last_success_at_ms INTEGER,
  health_changed_at_ms INTEGER,
  health_reason TEXT,
  -- bumped by every health write (compare-and-set between workers)
  health_version INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX endpoints_by_project ON endpoints (project_id, id);

-- Registered event types (documentation for the dashboard; publishing others is allowed).
CREATE TABLE event_types (
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  -- JSON example payload, or NULL
  example TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (project_id, name)
);

-- One outbound event. body is the envelope exactly as sent, so every attempt signs the same bytes.
CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  object_type TEXT,
  credential_id TEXT,
  user_id TEXT,
  ordering_key TEXT,
  idempotency_key TEXT,
  body TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX messages_by_project ON messages (project_id, id);

-- The idempotency key of the newest message that used it; a key older than the window is reused.
CREATE TABLE message_idempotency_keys (
  project_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  message_id TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (project_id, idempotency_key)
);

-- One message on its way to one endpoint; the table is the delivery queue. seq orders publishes
-- (FIFO per ordering key); a claim pushes next_attempt_at_ms one lease ahead.
CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  project_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  ordering_key TEXT,
  -- pending | succeeded | failed
  status TEXT NOT NULL,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  schedule_position INTEGER NOT NULL DEFAULT 0,
  next_attempt_at_ms INTEGER NOT NULL,
  last_attempt_at_ms INTEGER,
  last_status_code INTEGER,
  last_failure_kind TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at_ms, seq) WHERE status = 'pending';
CREATE INDEX deliveries_fifo ON deliveries (endpoint_id, ordering_key, seq) WHERE status = 'pending' AND ordering_key IS NOT NULL;
CREATE INDEX deliveries_by_message ON deliveries (message_id);
-- No status in the secondary indexes: every delivery changes status once or twice, and each
-- indexed column it changes costs an index update on the hot path.
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id, created_at_ms);

-- One HTTP try of a delivery.
CREATE TABLE attempts (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  attempt_number INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  -- succeeded | failed
  outcome TEXT NOT NULL,
  status_code INTEGER,
  error_kind TEXT,
  error_message TEXT,
  -- JSON object
  response_headers TEXT NOT NULL,
  -- first 4 KiB of the response body
  response_body TEXT NOT NULL,
  response_body_truncated SMALLINT NOT NULL,
  next_attempt_at_ms INTEGER
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, attempt_number);

-- Per-project delivery settings: retry schedule, egress allow list narrowing.
CREATE TABLE delivery_settings (
  project_id TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
  -- JSON array of delays in ms, or NULL for the default schedule
  retry_delays_ms TEXT,
  -- JSON array of CIDRs, or NULL for the operator's list
  egress_allow TEXT,
  updated_at_ms INTEGER NOT NULL
);
