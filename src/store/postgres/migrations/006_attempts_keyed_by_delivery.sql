-- Attempts keyed by (delivery_id, attempt_number, id): they are only ever read by delivery, in
-- attempt order, so the key serves those reads, and the id key and attempts_by_delivery (two
-- indexes written on every attempt) become one. The id stays in the key because two workers may
-- record the same attempt number when a lease ran out mid-request (at-least-once delivery).
ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
DROP INDEX attempts_by_delivery;
ALTER TABLE attempts ADD PRIMARY KEY (delivery_id, attempt_number, id);
