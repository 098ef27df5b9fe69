-- Projects are the tenancy root; every other table carries project_id.
CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  signing_public_key TEXT NOT NULL,
  signing_private_key_sealed TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  key_hint TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  revoked_at_ms BIGINT
);
CREATE INDEX api_keys_by_project ON api_keys (project_id, id);

-- Operator-level settings (the admin key hash); not project data.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
