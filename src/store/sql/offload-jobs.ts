import type { SyncExecutor } from './db.ts';
import { claimDueSync, completeDeliveriesSync, insertMessagesSync } from './delivery-queries.ts';
import { insertInboundEventsSync } from './inbound-queries.ts';

/**
 * Write jobs a driver may run off the event loop (SQLite's writer thread): each is synchronous
 * SQL over a SyncExecutor, run in one transaction, with input and output that survive structured
 * cloning (a Buffer arrives as a Uint8Array). Only the hot paths' batches are here: inbound
 * events, published messages with their deliveries, delivery claims, and delivery outcomes with
 * their attempts.
 */
export const OFFLOAD_JOBS = {
  insertInboundEvents: insertInboundEventsSync,
  insertMessages: insertMessagesSync,
  claimDueDeliveries: claimDueSync,
  completeDeliveries: completeDeliveriesSync,
} satisfies Record<string, (tx: SyncExecutor, input: never) => unknown>;

export type OffloadJobs = typeof OFFLOAD_JOBS;
export type OffloadJobName = keyof OffloadJobs;
export type OffloadInput<K extends OffloadJobName> = Parameters<OffloadJobs[K]>[1];
export type OffloadOutput<K extends OffloadJobName> = ReturnType<OffloadJobs[K]>;
