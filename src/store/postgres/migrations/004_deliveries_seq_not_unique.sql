-- deliveries.seq orders deliveries (claims, per-key FIFO, a message's deliveries) and is never
-- looked up on its own; identity values are unique by construction. Its unique index was one more
-- index entry on every insert and on every update of a delivery (a claim and an outcome each
-- change an indexed column, so neither is a HOT update): about 6% of PostgreSQL's CPU per delivery
-- in the delivery benchmark.
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_seq_key;
