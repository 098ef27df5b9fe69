-- Attempts keyed by (delivery_id, attempt_number, id): they are only ever read by delivery, in
-- attempt order, so the key serves those reads, and the id key and attempts_by_delivery (two
-- B-trees written on every attempt) become one. The id stays in the key because two workers may
-- record the same attempt number when a lease ran out mid-request (at-least-once delivery).
-- SQLite cannot change a table's key in place, so the table is rebuilt.
CREATE TABLE attempts_keyed (
  id TEXT NOT NULL,
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
  next_attempt_at_ms INTEGER,
  PRIMARY KEY (delivery_id, attempt_number, id)
);
INSERT INTO attempts_keyed SELECT id, project_id, delivery_id, message_id, endpoint_id, attempt_number, started_at_ms, duration_ms, outcome, status_code, error_kind, error_message, response_headers, response_body, response_body_truncated, next_attempt_at_ms FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_keyed RENAME TO attempts;
