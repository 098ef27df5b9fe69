import {
  claimDueSync,
  completeDeliveriesSync,
  insertMessagesSync,
  releaseDeliveriesSync,
} from '../sqlite/sqlite-delivery-statements.ts';
import { insertInboundEventRowsSync } from '../sqlite/sqlite-inbound-statements.ts';
import type { SyncExecutor } from './sql-executor.ts';

/**
 * Write jobs a driver may run off the event loop (SQLite's writer thread): each is synchronous
 * SQL over a SyncExecutor, run in one transaction, with input and output that survive structured
 * cloning (a Buffer arrives as a Uint8Array). Only the hot paths' batches are here: inbound
 * events, published messages with their deliveries, delivery claims, claimed deliveries given
 * back, and delivery outcomes with their attempts.
 */
export const OFFLOAD_JOBS = {
  insertInboundEvents: insertInboundEventRowsSync,
  insertMessages: insertMessagesSync,
  claimDueDeliveries: claimDueSync,
  completeDeliveries: completeDeliveriesSync,
  releaseDeliveries: releaseDeliveriesSync,
} satisfies Record<string, (tx: SyncExecutor, input: never) => unknown>;

/**
 * Jobs whose commit is answered before it reaches the disk (SQLite: committed with
 * synchronous=NORMAL; the writer thread flushes the WAL within a few tens of milliseconds, and any
 * durable commit meanwhile covers them too). A process crash loses none of them (the WAL frames
 * are in the OS's cache); only a power cut or kernel crash in that window can, and what it loses
 * is harmless under at-least-once delivery: a lost claim leaves its delivery pending to be claimed
 * again; a lost release or outcome leaves its delivery leased, so it is sent when the lease ends
 * (receivers dedupe on the message id). Inbound events and publishes are never in this set:
 * their 2xx promises the data is on disk.
 */
export const LAZY_DURABILITY_JOBS: ReadonlySet<OffloadJobName> = new Set<OffloadJobName>([
  'claimDueDeliveries',
  'completeDeliveries',
  'releaseDeliveries',
]);

export type OffloadJobs = typeof OFFLOAD_JOBS;
export type OffloadJobName = keyof OffloadJobs;
export type OffloadInput<K extends OffloadJobName> = Parameters<OffloadJobs[K]>[1];
export type OffloadOutput<K extends OffloadJobName> = ReturnType<OffloadJobs[K]>;
