import type { SqlDialect } from '../sql/sql-dialect.ts';
import { createSqliteDeliveryHotPath } from './sqlite-delivery-hot-path.ts';

/** SQLite: one process owns the file, and a write transaction holds the whole database. */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  capabilities: { endpointLeases: false, inboundEventsPerCommit: null },
  nowMsSql: "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
  lockRowsSql: '',
  createDeliveryHotPath: createSqliteDeliveryHotPath,
};
