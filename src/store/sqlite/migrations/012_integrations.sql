-- Integration definitions a project writes itself (shipped ones are files, not rows).
CREATE TABLE integration_definitions (
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  definition TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (project_id, key)
);

-- A project's own settings for an integration, shipped or its own: OAuth client id and secret and
-- app-level values, sealed together; the source that receives its app-level events.
CREATE TABLE integration_settings (
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  settings_sealed TEXT NOT NULL,
  app_source_id TEXT,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (project_id, key)
);
