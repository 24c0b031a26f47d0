import {
  type Column,
  getTableColumns,
  getTableName,
  type InferInsertModel,
  type InferSelectModel,
  is,
  SQL,
  sql,
} from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * Hot-path inserts as raw SQL, with drizzle's own column encoding and decoding. Building an insert
 * with drizzle's query builder costs 50–110 µs of CPU per statement (every column of the table is
 * walked and type-checked, and the `returning` list with it); ingestion runs three per item on a
 * CPU-bound path. These do the same work from the table's column list, computed once per table.
 */

interface ColumnInfo {
  key: string;
  name: string;
  column: Column;
}

interface TableInfo {
  name: string;
  byKey: Map<string, ColumnInfo>;
  all: ColumnInfo[];
  /** The statement's text around its values, by the list of keys inserted. */
  texts: Map<string, TemplateStringsArray>;
}

const tableInfos = new WeakMap<PgTable, TableInfo>();

function infoOf(table: PgTable): TableInfo {
  let info = tableInfos.get(table);
  if (!info) {
    const all = Object.entries(getTableColumns(table)).map(([key, column]) => ({ key, name: column.name, column }));
    info = { name: getTableName(table), byKey: new Map(all.map((c) => [c.key, c])), all, texts: new Map() };
    tableInfos.set(table, info);
  }
  return info;
}

/** `insert into "t" ("a", "b") values (`, `, `, `)`: the text between the values, built once per key list. */
function insertText(info: TableInfo, keys: string[]): TemplateStringsArray {
  const id = keys.join(',');
  let text = info.texts.get(id);
  if (!text) {
    const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
    const columns = keys.map((key) => {
      const column = info.byKey.get(key);
      if (!column) throw new Error(`${info.name} has no column ${key}`);
      return quote(column.name);
    });
    const parts = [`insert into ${quote(info.name)} (${columns.join(', ')}) values (`];
    for (let i = 1; i < keys.length; i += 1) parts.push(', ');
    parts.push(')');
    text = Object.assign(parts, { raw: parts }) as unknown as TemplateStringsArray;
    info.texts.set(id, text);
  }
  return text;
}

/**
 * `insert into <table> (<columns>) values (<values>)` for the keys of `values` that are not
 * undefined, each value encoded as drizzle's builder encodes it (`mapToDriverValue`: ISO timestamps,
 * JSON, array literals); an `SQL` value is inlined. The caller appends `on conflict` and `returning`.
 */
export function insertInto<T extends PgTable>(
  table: T,
  values: { [K in keyof InferInsertModel<T>]?: InferInsertModel<T>[K] | SQL },
): SQL {
  const info = infoOf(table);
  const keys: string[] = [];
  const params: unknown[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    keys.push(key);
    params.push(value === null || is(value, SQL) ? value : info.byKey.get(key)?.column.mapToDriverValue(value));
  }
  return sql(insertText(info, keys), ...params);
}

/** Maps a `returning *` (or `select *`) row of the table to its model, decoding as drizzle's queries do. */
export function rowOf<T extends PgTable>(table: T, row: Record<string, unknown>): InferSelectModel<T> {
  const out: Record<string, unknown> = {};
  for (const { key, name, column } of infoOf(table).all) {
    const value = row[name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as InferSelectModel<T>;
}
