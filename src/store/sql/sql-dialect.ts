import type { StoreCapabilities } from '../store.ts';
import type { Db } from './db.ts';
import type { ClaimRunner } from './delivery/claims.ts';
import type { MessageWriter } from './delivery/messages.ts';
import type { OutcomeWriter } from './delivery/outcomes.ts';
import type { Dialect } from './sql-executor.ts';

/** The delivery hot path's statements, written differently for each database. */
export interface DeliveryHotPath extends MessageWriter, ClaimRunner, OutcomeWriter {}

/**
 * What differs between the databases under the SQL store, chosen once when the store is built
 * (src/store/open-store.ts): one object per database, in its own folder (sqlite/, postgres/).
 * Everything in src/store/sql outside this seam is written once for both.
 */
export interface SqlDialect {
  readonly name: Dialect;
  readonly capabilities: StoreCapabilities;
  /** The database's clock in epoch ms, as an SQL expression (endpoint leases are timed by it). */
  readonly nowMsSql: string;
  /**
   * Ends a SELECT in a write transaction that must lock the rows it reads until the transaction
   * ends; empty where a write transaction already excludes every other writer.
   */
  readonly lockRowsSql: string;
  createDeliveryHotPath(db: Db): DeliveryHotPath;
}
