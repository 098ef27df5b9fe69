-- Public keys a project registers to sign its users' tokens with (its backend holds the private
-- halves). Kept as a public JWK; the algorithm is fixed at registration.
CREATE TABLE user_token_keys (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE INDEX user_token_keys_by_project ON user_token_keys (project_id, id);

-- An endpoint may belong to one user of its project (NULL: project-wide).
ALTER TABLE endpoints ADD COLUMN user_id TEXT;
CREATE INDEX endpoints_by_user ON endpoints (project_id, user_id, id);
