import { PG_EVENT_STATEMENT_ROWS } from '../inbound-store.ts';
import type { SqlDialect } from '../sql/sql-dialect.ts';
import { createPostgresDeliveryHotPath, PG_NOW_MS } from './postgres-delivery-statements.ts';

/** PostgreSQL: several processes may share the database; rows are locked one by one. */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  capabilities: { endpointLeases: true, inboundEventsPerCommit: PG_EVENT_STATEMENT_ROWS },
  nowMsSql: PG_NOW_MS,
  lockRowsSql: ' FOR UPDATE',
  createDeliveryHotPath: createPostgresDeliveryHotPath,
};
