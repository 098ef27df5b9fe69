-- The body's SHA-256 is no longer stored with each inbound event: the event's detail in the API,
-- the one place that shows it, computes it from the body. (An event without a provider event id
-- also carries it in its dedupe key, sha256:….) Writing it cost the writer thread a hash and a
-- column on every event of the ingest path.
ALTER TABLE inbound_events DROP COLUMN body_sha256;
