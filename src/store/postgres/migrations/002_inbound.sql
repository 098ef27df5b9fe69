-- A source: an inbound URL and how to treat what arrives there.
CREATE TABLE sources (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  provider TEXT,
  -- JSON: verification, handshake, dedupe, routing, eventType, toleranceSeconds, maxBodyBytes, requireJson
  settings TEXT NOT NULL,
  -- sealed JSON [{ value, notAfterMs }]; never returned by the API
  secrets_sealed TEXT,
  public_key TEXT,
  -- sealed JSON of what handshakes left for the operator (Notion verification token)
  handshake_state_sealed TEXT,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE INDEX sources_by_project ON sources (project_id, id);

-- App-level routing: a provider account id (Slack team_id, HubSpot portalId) bound to a tenant.
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  source_id TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
  provider_account_id TEXT NOT NULL,
  user_id TEXT,
  created_at_ms BIGINT NOT NULL,
  UNIQUE (source_id, provider_account_id)
);
CREATE INDEX tenants_by_project ON tenants (project_id, id);

-- One request that arrived at a source, stored raw. The row is also its own follow-up job
-- (process_status 'pending' until the router has handled it): one insert, one commit, no second
-- queue to lose it between. UNIQUE (source_id, dedupe_key) makes a retried delivery a no-op.
CREATE TABLE inbound_events (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  source_id TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  provider_event_id TEXT,
  event_type TEXT,
  method TEXT NOT NULL,
  url TEXT NOT NULL,
  headers TEXT NOT NULL,
  body BYTEA NOT NULL,
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
  process_after_ms BIGINT NOT NULL,
  process_attempts INTEGER NOT NULL DEFAULT 0,
  received_at_ms BIGINT NOT NULL,
  UNIQUE (source_id, dedupe_key)
);
CREATE INDEX inbound_events_by_project ON inbound_events (project_id, id);
CREATE INDEX inbound_events_pending ON inbound_events (process_after_ms) WHERE process_status = 'pending';
CREATE INDEX inbound_events_unrouted ON inbound_events (source_id, routing_key) WHERE status = 'unrouted';
