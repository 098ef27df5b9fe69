import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

const MIGRATION_FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;
// Serialises concurrent `migrate` runs from several processes on one PostgreSQL.
const PG_MIGRATION_LOCK = 74_007_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered, forward-only SQL files, one folder per backend: src/store/{sqlite,postgres}/migrations. */
export function readMigrations(dialect: Db['dialect']): Migration[] {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', dialect, 'migrations');
  const out: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = MIGRATION_FILE.exec(file);
    if (!m) continue;
    out.push({ version: Number(m[1]), name: m[2] ?? file, sql: readFileSync(path.join(dir, file), 'utf8') });
  }
  // Numbers are unique and increasing. A gap is allowed: each database records the versions it
  // applied, so a lower-numbered migration that arrives after a higher one still runs.
  out.forEach((m, i) => {
    const previous = out[i - 1];
    if (m.version < 1 || (previous && m.version <= previous.version))
      throw new Error(`migrations for ${dialect} must have unique numbers from 001 up: ${m.version}`);
  });
  return out;
}

/**
 * Applies the migrations not yet applied (up to `upTo`, when given: tests build an older schema
 * with it to check a migration over existing rows); returns the versions applied now.
 */
export async function migrate(db: Db, options: { upTo?: number } = {}): Promise<number[]> {
  await db.exec(
    'CREATE TABLE IF NOT EXISTS hy_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)',
  );
  const applied: number[] = [];
  const all = readMigrations(db.dialect).filter(
    (m) => m.version <= (options.upTo ?? Number.MAX_SAFE_INTEGER),
  );
  await db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(?)', [PG_MIGRATION_LOCK]);
    const rows = await tx.all<{ version: number }>('SELECT version FROM hy_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    for (const m of all) {
      if (done.has(m.version)) continue;
      // Each file may hold several statements; drivers run them via exec, inside this transaction.
      for (const statement of splitStatements(m.sql)) await tx.run(statement);
      await tx.run('INSERT INTO hy_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)', [
        m.version,
        m.name,
        Date.now(),
      ]);
      applied.push(m.version);
    }
  });
  return applied;
}

/** Splits a migration on semicolons at line ends; migrations keep one statement per `;\n`. */
function splitStatements(sql: string): string[] {
  return sql
    .replace(/^\s*--.*$/gm, '')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}
