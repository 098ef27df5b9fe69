import type { DeliveryStore } from '../delivery-store.ts';
import type { Db } from './db.ts';
import { createClaimQueries } from './delivery/claims.ts';
import { createDeliveryRecordQueries } from './delivery/deliveries.ts';
import { createDeliverySettingsQueries } from './delivery/delivery-settings.ts';
import { createEndpointLeaseQueries } from './delivery/endpoint-leases.ts';
import { createEndpointQueries } from './delivery/endpoints.ts';
import { createEventTypeQueries } from './delivery/event-types.ts';
import { createMessageQueries } from './delivery/messages.ts';
import { createOutcomeQueries } from './delivery/outcomes.ts';
import type { SqlDialect } from './sql-dialect.ts';

/**
 * The outbound part of the store, one concept per file under delivery/. The hot path's
 * statements (publish, claim, release, outcomes) are the dialect's; the rest is shared SQL.
 */
export function createDeliveryQueries(db: Db, dialect: SqlDialect): DeliveryStore {
  const hotPath = dialect.createDeliveryHotPath(db);
  return {
    ...createEndpointQueries(db),
    ...createEventTypeQueries(db),
    ...createMessageQueries(db, hotPath),
    ...createDeliveryRecordQueries(db, dialect.lockRowsSql),
    ...createClaimQueries(hotPath, dialect.nowMsSql),
    ...createOutcomeQueries(hotPath),
    ...createEndpointLeaseQueries(db, dialect.nowMsSql),
    ...createDeliverySettingsQueries(db),
  };
}
