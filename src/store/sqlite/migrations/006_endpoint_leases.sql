-- Endpoint leases: which worker process sends for an endpoint that has limits of its own
-- (maxConcurrency, rateLimitPerSecond). One holder at a time, so the limits hold for the whole
-- deployment and not once per process. Rows exist only while a worker holds (or recently held)
-- an endpoint, and until_ms is on the database's clock. SQLite serves one process and does not
-- use them by default; the table keeps both stores' schemas and contracts alike.
CREATE TABLE endpoint_leases (
  endpoint_id TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until_ms BIGINT NOT NULL
);
