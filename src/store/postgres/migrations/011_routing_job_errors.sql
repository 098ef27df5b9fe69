-- A routing job that fails is retried with backoff and, after too many failures, set aside
-- (process_status 'failed') so it never holds up the events behind it; process_error keeps why,
-- for the API and for replay.
ALTER TABLE inbound_events ADD COLUMN process_error TEXT;
