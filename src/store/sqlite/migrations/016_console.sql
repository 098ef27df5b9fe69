-- Inbound requests refused before storage (bad signature, unknown source, too large, failed
-- handshake): what was refused and why, never the body (its size and SHA-256 only). Written in
-- batches off the request path and kept for a bounded time and count per source. `count` is 1 for
-- a recorded request; a row with reason_code 'not_recorded' counts the refusals a full buffer
-- dropped. project_id is NULL for a request to a source that does not exist.
CREATE TABLE refused_requests (
  id TEXT PRIMARY KEY,
  project_id TEXT,
  source_id TEXT NOT NULL,
  reason_code TEXT NOT NULL,
  reason TEXT NOT NULL,
  status INTEGER NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  -- JSON object: content-type, content-length, user-agent and the like, never credentials
  metadata TEXT NOT NULL,
  remote_address TEXT,
  body_bytes INTEGER NOT NULL,
  body_sha256 TEXT,
  count INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL
);
CREATE INDEX refused_requests_by_source ON refused_requests (source_id, id);
CREATE INDEX refused_requests_by_time ON refused_requests (received_at_ms);

-- One-time tickets for the live stream (a browser's EventSource cannot send a bearer key): only
-- the ticket's hash is stored, taken once and gone.
CREATE TABLE stream_tickets (
  ticket_hash TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  expires_at_ms INTEGER NOT NULL
);

-- A project's deliveries by id (time-ordered): the deliveries listing and the overview's counts
-- read a project's deliveries without scanning every project's.
CREATE INDEX deliveries_by_project ON deliveries (project_id, id);
