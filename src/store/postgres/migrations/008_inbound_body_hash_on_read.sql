-- The body's SHA-256 is no longer stored with each inbound event. An event without a provider
-- event id already carries it in its dedupe key (sha256:…); for the others it is computed from
-- the body when an event is read (only the event's detail shows it).
ALTER TABLE inbound_events DROP COLUMN body_sha256;
