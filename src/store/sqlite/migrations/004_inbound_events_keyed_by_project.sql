-- Inbound events keyed by (project_id, id). Every lookup by id also names the project (the API
-- reads within a project, the router completes what it claimed), and the event log lists a
-- project's events by id: one B-tree serves both where the id key and inbound_events_by_project
-- were two, each written on every insert. SQLite cannot change a table's key in place, so the
-- table is rebuilt.
CREATE TABLE inbound_events_keyed (
  id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  source_id TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  provider_event_id TEXT,
  event_type TEXT,
  method TEXT NOT NULL,
  url TEXT NOT NULL,
  headers TEXT NOT NULL,
  body BLOB NOT NULL,
  body_sha256 TEXT NOT NULL,
  -- 1 parsed as JSON, 0 claimed JSON but did not parse, NULL not JSON
  json_valid SMALLINT,
  verification TEXT NOT NULL,
  credential_id TEXT,
  routing_key TEXT,
  tenant_id TEXT,
  -- received | routed | unrouted
  status TEXT NOT NULL,
  process_status TEXT NOT NULL,
  process_after_ms INTEGER NOT NULL,
  process_attempts INTEGER NOT NULL DEFAULT 0,
  received_at_ms INTEGER NOT NULL,
  PRIMARY KEY (project_id, id),
  UNIQUE (source_id, dedupe_key)
);
INSERT INTO inbound_events_keyed SELECT id, project_id, source_id, dedupe_key, provider_event_id, event_type, method, url, headers, body, body_sha256, json_valid, verification, credential_id, routing_key, tenant_id, status, process_status, process_after_ms, process_attempts, received_at_ms FROM inbound_events;
DROP TABLE inbound_events;
ALTER TABLE inbound_events_keyed RENAME TO inbound_events;
CREATE INDEX inbound_events_pending ON inbound_events (process_after_ms) WHERE process_status = 'pending';
CREATE INDEX inbound_events_unrouted ON inbound_events (source_id, routing_key) WHERE status = 'unrouted';
