-- One user's connection to one integration. Tokens and settings are sealed; version moves on every
-- change of tokens or status (refreshes compare and set on it); the refresh lease lets one process
-- at a time spend a rotating refresh token.
CREATE TABLE credentials (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  integration TEXT NOT NULL,
  provider_account_id TEXT,
  auth_type TEXT NOT NULL,
  secrets_sealed TEXT NOT NULL,
  access_token_expires_at_ms BIGINT,
  settings_sealed TEXT NOT NULL,
  status TEXT NOT NULL,
  status_reason TEXT,
  version BIGINT NOT NULL,
  refresh_lease_owner TEXT,
  refresh_lease_until_ms BIGINT,
  last_refreshed_at_ms BIGINT,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE INDEX credentials_by_user ON credentials (project_id, user_id, integration, id);
CREATE INDEX credentials_by_integration ON credentials (project_id, integration, id);
CREATE UNIQUE INDEX credentials_one_per_account
  ON credentials (project_id, user_id, integration, provider_account_id)
  WHERE provider_account_id IS NOT NULL;

-- OAuth connects in flight: one row per state sent to a provider, taken (deleted) once on return.
CREATE TABLE oauth_states (
  state_hash TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  integration TEXT NOT NULL,
  redirect_url TEXT NOT NULL,
  code_verifier_sealed TEXT,
  settings_sealed TEXT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE INDEX oauth_states_by_expiry ON oauth_states (expires_at_ms);

-- Where a project's connect flow may send a browser back to.
CREATE TABLE connect_settings (
  project_id TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
  allowed_redirect_origins TEXT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
