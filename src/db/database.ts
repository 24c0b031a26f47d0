import { type ExtractTablesWithRelations, type SQL, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type * as schema from './schema/index.js';

type Schema = typeof schema;

/**
 * The one database type every query function takes. PGlite and postgres.js databases both fit,
 * and so does a transaction, so a query runs unchanged inside `db.transaction(tx => …)`.
 */
export type Database = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** `db.execute()` answers `{ rows }` on PGlite and an array on postgres.js; this reads both. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown }).rows;
  return Array.isArray(rows) ? (rows as T[]) : [];
}

/** A bound `int[]` parameter list, for `= any(...)` and `unnest(...)` (an empty list is a typed empty array). */
export function intArray(values: readonly number[]): SQL {
  return values.length
    ? sql`array[${sql.join(
        values.map((v) => sql`${v}`),
        sql`, `,
      )}]::int[]`
    : sql`array[]::int[]`;
}

/** A bound `text[]` parameter list; see `intArray`. */
export function textArray(values: readonly string[]): SQL {
  return values.length
    ? sql`array[${sql.join(
        values.map((v) => sql`${v}`),
        sql`, `,
      )}]::text[]`
    : sql`array[]::text[]`;
}
