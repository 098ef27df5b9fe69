-- Inbound events keyed by (project_id, id). Every lookup by id also names the project (the API
-- reads within a project, the router completes what it claimed), and the event log lists a
-- project's events by id: one index serves both where the id key and inbound_events_by_project
-- were two, each written on every insert.
ALTER TABLE inbound_events DROP CONSTRAINT inbound_events_pkey;
DROP INDEX inbound_events_by_project;
ALTER TABLE inbound_events ADD PRIMARY KEY (project_id, id);
