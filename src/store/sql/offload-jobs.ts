import type { SyncExecutor } from './db.ts';
import { insertInboundEventsSync } from './inbound-queries.ts';

/**
 * Write jobs a driver may run off the event loop (SQLite's writer thread): each is synchronous
 * SQL over a SyncExecutor, run in one transaction, with input and output that survive structured
 * cloning (a Buffer arrives as a Uint8Array). Only the hot path's batches are here.
 */
export const OFFLOAD_JOBS = {
  insertInboundEvents: insertInboundEventsSync,
} satisfies Record<string, (tx: SyncExecutor, input: never) => unknown>;

export type OffloadJobs = typeof OFFLOAD_JOBS;
export type OffloadJobName = keyof OffloadJobs;
export type OffloadInput<K extends OffloadJobName> = Parameters<OffloadJobs[K]>[1];
export type OffloadOutput<K extends OffloadJobName> = ReturnType<OffloadJobs[K]>;
