import type { DeliveryId } from '../../domain/ids.ts';
import type { Db } from '../sql/db.ts';
import type { DeliveryHotPath } from '../sql/sql-dialect.ts';
import {
  claimDueSync,
  completeDeliveriesSync,
  insertMessagesSync,
  releaseDeliveriesSync,
} from './sqlite-delivery-statements.ts';

function noDriverFor(job: string): Promise<never> {
  return Promise.reject(new Error(`${job}: this SQLite driver runs no synchronous transactions`));
}

/**
 * SQLite's delivery hot path: each batch of sqlite-delivery-statements.ts runs as a job of the
 * writer thread where the driver has one, else in a synchronous transaction on the event loop.
 */
export function createSqliteDeliveryHotPath(db: Db): DeliveryHotPath {
  return {
    insertMessages(batch) {
      if (db.offload) return db.offload('insertMessages', batch);
      if (db.transactionSync) return db.transactionSync((tx) => insertMessagesSync(tx, batch));
      return noDriverFor('insertMessages');
    },
    claimDue(claim) {
      if (db.offload) return db.offload('claimDueDeliveries', claim);
      if (db.transactionSync) return db.transactionSync((tx) => claimDueSync(tx, claim));
      return noDriverFor('claimDueDeliveries');
    },
    releaseDeliveries(ids: readonly DeliveryId[], nextAttemptAtMs) {
      const input = { ids, nextAttemptAtMs };
      if (db.offload) return db.offload('releaseDeliveries', input);
      if (db.transactionSync) return db.transactionSync((tx) => releaseDeliveriesSync(tx, input));
      return noDriverFor('releaseDeliveries');
    },
    completeDeliveries(rows) {
      if (db.offload) return db.offload('completeDeliveries', rows);
      if (db.transactionSync) return db.transactionSync((tx) => completeDeliveriesSync(tx, rows));
      return noDriverFor('completeDeliveries');
    },
  };
}
