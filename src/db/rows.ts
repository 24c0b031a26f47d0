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

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

function columnOf(info: TableInfo, key: string): ColumnInfo {
  const column = info.byKey.get(key);
  if (!column) throw new Error(`${info.name} has no column ${key}`);
  return column;
}

/** `insert into "t" ("a", "b") values (`, `, `, `)`: the text between the values, built once per key list. */
function insertText(info: TableInfo, keys: string[]): TemplateStringsArray {
  const id = keys.join(',');
  let text = info.texts.get(id);
  if (!text) {
    const columns = keys.map((key) => quote(columnOf(info, key).name));
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
    params.push(encode(info, key, value));
  }
  return sql(insertText(info, keys), ...params);
}

/** One encoded value of a column: `mapToDriverValue`, or the SQL given. */
function encode(info: TableInfo, key: string, value: unknown): unknown {
  const { column } = columnOf(info, key);
  return value === null || is(value, SQL) ? value : column.mapToDriverValue(value);
}

/**
 * Many rows in one statement whose text never changes with their number or their values: `insert
 * into <table> (<columns>) [overriding system value] select <columns> from
 * jsonb_populate_recordset(null::<table>, <rows as one JSON parameter>)`, so a batch of any size
 * reuses one prepared statement and costs one bound value to build. The columns are the keys of the
 * first row (every row must set the same); PostgreSQL reads each JSON value as its column's type
 * (ISO timestamps, arrays, nested JSON). `overridingSystemValue` lets the rows carry ids drawn
 * beforehand for an identity column. The caller may append `returning`.
 */
export function insertJsonRows<T extends PgTable>(
  table: T,
  rows: readonly { [K in keyof InferInsertModel<T>]?: InferInsertModel<T>[K] }[],
  options: { overridingSystemValue?: boolean } = {},
): SQL {
  const info = infoOf(table);
  const first = rows[0] as Record<string, unknown> | undefined;
  if (!first) throw new Error(`no rows to insert into ${info.name}`);
  const setKeys = (record: Record<string, unknown>) => Object.keys(record).filter((key) => record[key] !== undefined);
  const keys = setKeys(first);
  const names = keys.map((key) => columnOf(info, key).name);
  const records = rows.map((row) => {
    const record = row as Record<string, unknown>;
    if (setKeys(record).length !== keys.length || keys.some((key) => record[key] === undefined)) {
      throw new Error(`every row inserted into ${info.name} must set the same columns`);
    }
    return Object.fromEntries(keys.map((key, i) => [names[i], record[key]]));
  });
  const target = sql.raw(quote(info.name));
  const columns = sql.raw(names.map(quote).join(', '));
  const overriding = options.overridingSystemValue ? sql` overriding system value` : sql``;
  return sql`insert into ${target} (${columns})${overriding}
    select ${columns} from jsonb_populate_recordset(null::${target}, ${jsonParam(records)})`;
}

const UNSTORABLE_ESCAPE = /\\ud[89a-f]|\\u0000/i;

type WellFormed = { isWellFormed(): boolean; toWellFormed(): string };

function wellFormed(text: string): string {
  const string = text as unknown as WellFormed;
  return (string.isWellFormed() ? text : string.toWellFormed()).replaceAll('\u0000', '\ufffd');
}

/** The value with every string, object keys included, made well-formed UTF-16 without NUL. */
function wellFormedDeep(value: unknown): unknown {
  if (typeof value === 'string') return wellFormed(value);
  if (Array.isArray(value)) return value.map(wellFormedDeep);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [wellFormed(key), wellFormedDeep(v)]));
  }
  return value;
}

/**
 * JSON for a `::jsonb` parameter. A lone UTF-16 surrogate or a NUL in a string (malformed input a
 * JSON body can carry, in a value or a key) becomes U+FFFD: PostgreSQL's JSON parser refuses the
 * `\ud800` and `\u0000` escapes JSON.stringify writes for them.
 */
export function jsonText(value: unknown): string {
  const text = JSON.stringify(value);
  // Only such a character (or text that spells one out) puts these escapes in the output: the rare slow path.
  return UNSTORABLE_ESCAPE.test(text) ? JSON.stringify(wellFormedDeep(value)) : text;
}

/** `jsonText` as one bound `jsonb` value: a list of any length, and the statement's text never changes. */
export function jsonParam(value: unknown): SQL {
  return sql`${jsonText(value)}::jsonb`;
}

/**
 * A list as a PostgreSQL array for `= any(...)`, sent as one `jsonParam` (unlike `sqlArray`, one
 * parameter per value): an indexable condition whose statement text never changes with the length.
 */
export function jsonArray(values: readonly (string | number)[], type: 'int' | 'bigint' | 'text'): SQL {
  return sql`array(select jsonb_array_elements_text(${jsonParam(values)})::${sql.raw(type)})`;
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
