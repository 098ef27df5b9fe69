export function startEmbeddedPostgres(options?: {
  durable?: boolean;
  /** Loads pg_stat_statements (with planning times), for `topStatements`. */
  statements?: boolean;
  /** Starts with recycled WAL segments, as a server that has run a while (benchmarks). */
  warmWal?: boolean;
}): Promise<{
  url: string;
  stop: () => Promise<void>;
  /** The statements that took the most time; empty unless started with `statements`. */
  topStatements: (limit?: number) => Promise<Record<string, unknown>[]>;
}>;
