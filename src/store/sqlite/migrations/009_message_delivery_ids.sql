-- A message names its deliveries: delivery_ids lists their ids, comma-separated, in creation
-- order. "The deliveries of a message" (its deliveries listing, resend) reads that list and finds
-- each delivery by primary key, so deliveries_by_message goes: an index entry every publish wrote
-- for each delivery, and (on PostgreSQL, where an outcome's update is not HOT) every outcome
-- again. Measured on PostgreSQL: about 12 µs of the server's CPU a delivery (docs/benchmarks.md).
-- Messages stored before this migration get their lists from their deliveries here, in order.
ALTER TABLE messages ADD COLUMN delivery_ids TEXT NOT NULL DEFAULT '';
UPDATE messages SET delivery_ids = COALESCE(
  (SELECT group_concat(d.id, ',' ORDER BY d.seq) FROM deliveries d WHERE d.message_id = messages.id), '');
DROP INDEX deliveries_by_message;
