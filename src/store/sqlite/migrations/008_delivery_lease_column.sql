-- A claim's lease in a column of its own. Until now a claim pushed next_attempt_at_ms one lease
-- ahead, which moved the row in deliveries_due (an index delete and insert on every claim, and on
-- PostgreSQL an update that could never be HOT: four index entries). A claim now writes only
-- leased_until_ms, which no index holds; claims skip rows leased past their time. Rows leased by
-- the old scheme keep their pushed due time, which ends when their lease would have.
ALTER TABLE deliveries ADD COLUMN leased_until_ms INTEGER;
