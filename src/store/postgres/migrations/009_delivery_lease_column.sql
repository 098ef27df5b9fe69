-- A claim's lease in a column of its own. Until now a claim pushed next_attempt_at_ms one lease
-- ahead, which moved the row in deliveries_due: an update that could never be HOT, so every claim
-- wrote four index entries (deliveries_pkey, deliveries_due, deliveries_by_message,
-- deliveries_by_endpoint). A claim now writes only leased_until_ms, which no index holds, so its
-- update is HOT when the row's page has room; claims skip rows leased past their time. Rows leased
-- by the old scheme keep their pushed due time, which ends when their lease would have.
ALTER TABLE deliveries ADD COLUMN leased_until_ms BIGINT;
-- Room on each page for the claim's new row versions: rows are inserted in publish order and a
-- claim takes them in that order, so a claim updates most rows of a page at once. Measured on a
-- 30,000-delivery backlog (claim, then outcome; docs/benchmarks.md): fillfactor 50 made nearly
-- every claim HOT and cut PostgreSQL's CPU for claim and outcome by a quarter; 70 made half of
-- them HOT and 100 almost none, and both were slower than the old claim (the skipped leased rows
-- cost without the HOT update to pay for them). It applies to pages filled from now on.
ALTER TABLE deliveries SET (fillfactor = 50);
