import type { SqlExecutor, SqlValue } from './sql-executor.ts';

/**
 * Lists of values as `IN (…)` or multi-row `VALUES` are padded or chunked to a few fixed sizes,
 * so the number of distinct statements (each prepared and cached by the drivers) stays small.
 */
const SIZES = [1024, 256, 64, 16, 4, 1] as const;

export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  while (i < items.length) {
    const left = items.length - i;
    const size = SIZES.find((s) => s <= left) ?? 1;
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

/** `?, ?, …` padded to a fixed size with a value that matches nothing (ids are never empty). */
export function paddedIn(values: readonly string[]): { marks: string; params: string[] } {
  const size = [...SIZES].reverse().find((s) => s >= values.length) ?? values.length;
  const params = [...values];
  while (params.length < size) params.push('');
  return { marks: params.map(() => '?').join(', '), params };
}

/** `?, ?, …`, n of them. */
export const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** The first `limit` of `limit + 1` rows read, and the cursor of the next page when there is one. */
export function pageOf<T extends { id: string }>(
  rows: T[],
  limit: number,
): { rows: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  return { rows: items, nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
}

/** Inserts rows with multi-row VALUES, in fixed-size chunks. */
export async function insertRows(
  tx: SqlExecutor,
  table: string,
  columns: string,
  rows: readonly SqlValue[][],
): Promise<void> {
  const width = columns.split(',').length;
  const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  for (const chunk of chunks(rows)) {
    await tx.run(
      `INSERT INTO ${table} (${columns}) VALUES ${chunk.map(() => tuple).join(', ')}`,
      chunk.flat(),
    );
  }
}

/** `null` stays null; a number read back (as a number or numeric string) becomes a number. */
export const num = (v: number | null): number | null => (v === null ? null : Number(v));
