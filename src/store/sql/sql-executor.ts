/** The statement runners under the SQL store: written with `?` placeholders, whatever the database. */
export type SqlValue = string | number | bigint | Buffer | null;
export type Dialect = 'sqlite' | 'postgres';

export interface SqlExecutor {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

/** Statements run synchronously (SQLite only): the hot path's batch insert avoids a promise per row. */
export interface SyncExecutor {
  all<T>(sql: string, params?: readonly SqlValue[]): T[];
  /** Rows one at a time, read as they are taken: stopping early reads no more. No other statement may run meanwhile. */
  iterate<T>(sql: string, params?: readonly SqlValue[]): Generator<T, void, undefined>;
  run(sql: string, params?: readonly SqlValue[]): { changes: number };
}
