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

/**
 * A bound array of one PostgreSQL type, for `= any(...)`, `&&` and `unnest(...)`: one parameter per
 * value, and an empty list is a typed empty array rather than a syntax error.
 */
export function sqlArray(
  values: readonly unknown[],
  type: 'int' | 'bigint' | 'text' | 'jsonb' | 'date' | 'timestamptz',
): SQL {
  const cast = sql.raw(`::${type}[]`);
  if (values.length === 0) return sql`array[]${cast}`;
  return sql`array[${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )}]${cast}`;
}

export function intArray(values: readonly number[]): SQL {
  return sqlArray(values, 'int');
}

export function textArray(values: readonly string[]): SQL {
  return sqlArray(values, 'text');
}
