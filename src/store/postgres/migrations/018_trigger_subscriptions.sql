-- One user's subscription to one trigger through one credential, with what the provider answered
-- (its id, sealed secret, expiry). Deleted with its project; a credential's subscriptions are torn
-- down at the provider before the credential is deleted, then go with it.
CREATE TABLE trigger_subscriptions (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  integration TEXT NOT NULL,
  trigger_type TEXT NOT NULL,
  credential_id TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  parameters TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT,
  provider_subscription_id TEXT,
  secret_sealed TEXT,
  saved TEXT NOT NULL,
  expires_at_ms BIGINT,
  webhook_override TEXT,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  last_received_event_at_ms BIGINT
);
CREATE INDEX trigger_subscriptions_by_project ON trigger_subscriptions (project_id, id);
CREATE INDEX trigger_subscriptions_by_credential ON trigger_subscriptions (credential_id);
CREATE INDEX trigger_subscriptions_by_expiry ON trigger_subscriptions (expires_at_ms)
  WHERE expires_at_ms IS NOT NULL;
