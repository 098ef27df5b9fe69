import path from 'node:path';
import { PostgresDb } from './postgres/postgres-db.ts';
import { postgresDialect } from './postgres/postgres-dialect.ts';
import { createSqlStore } from './sql/sql-store.ts';
import { SqliteDb } from './sqlite/sqlite-db.ts';
import { sqliteDialect } from './sqlite/sqlite-dialect.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  databaseUrl: string;
  dataDir: string;
  poolSize?: number;
  /** SQLite: write the hot paths' batches on a worker thread (the server does; one-off commands need not). */
  sqliteWriterThread?: boolean;
}

/** PostgreSQL when a postgres:// URL is configured, else the SQLite file {dataDir}/hookyard.db. */
export function openStore(options: OpenStoreOptions): Store {
  if (options.databaseUrl) {
    return createSqlStore(
      new PostgresDb(options.databaseUrl, { poolSize: options.poolSize }),
      postgresDialect,
    );
  }
  return createSqlStore(
    new SqliteDb(path.join(options.dataDir, 'hookyard.db'), {
      writerThread: options.sqliteWriterThread ?? false,
    }),
    sqliteDialect,
  );
}
