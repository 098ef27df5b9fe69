-- Workflows: the current version's summary (what triggers look up), every version's document
-- (an execution finishes on the version it started with), and which users enabled each one.
CREATE TABLE workflows (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  deployed INTEGER NOT NULL,
  trigger_type TEXT NOT NULL,
  trigger_key TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  deleted_at_ms INTEGER
);
CREATE INDEX workflows_by_trigger ON workflows (project_id, trigger_type, trigger_key);

CREATE TABLE workflow_versions (
  workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  project_id TEXT NOT NULL,
  document TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, version)
);

CREATE TABLE workflow_users (
  workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, user_id)
);

CREATE TABLE app_events (
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  schema TEXT NOT NULL,
  validate INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (project_id, name)
);

-- One run of one workflow version for one user. run_key makes a scheduled fire unique across
-- processes; the lease columns are the durable engine's claim.
CREATE TABLE workflow_executions (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  workflow_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  user_id TEXT,
  status TEXT NOT NULL,
  trigger_input TEXT NOT NULL,
  response TEXT,
  error TEXT,
  run_key TEXT UNIQUE,
  next_run_at_ms INTEGER NOT NULL,
  leased_until_ms INTEGER,
  lease_holder TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER
);
CREATE INDEX workflow_executions_due ON workflow_executions (next_run_at_ms) WHERE status IN ('running', 'waiting');
CREATE INDEX workflow_executions_by_project ON workflow_executions (project_id, id);
CREATE INDEX workflow_executions_by_user ON workflow_executions (workflow_id, user_id, status);

-- Each step's committed state within one execution, keyed by its place in the run (`loop[2].send`).
CREATE TABLE workflow_step_runs (
  execution_id TEXT NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
  step_key TEXT NOT NULL,
  project_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  output TEXT,
  attempts INTEGER NOT NULL,
  error TEXT,
  wait_event TEXT,
  wake_at_ms INTEGER,
  seq INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER,
  PRIMARY KEY (execution_id, step_key)
);
CREATE INDEX workflow_step_runs_waiting ON workflow_step_runs (project_id, wait_event) WHERE status = 'waiting' AND wait_event IS NOT NULL;
