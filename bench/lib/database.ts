import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';

/** The server benchmarks run against: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local one. */
export function benchServerUrl(): string {
  return (
    process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  );
}

function databaseUrl(name: string): string {
  const url = new URL(benchServerUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(benchServerUrl(), { max: 1, onnotice: () => {} });
  try {
    return await run(sql);
  } finally {
    await sql.end();
  }
}

let template: Promise<string> | undefined;
const created = new Set<string>();

/**
 * One migrated database per bench process, copied for every scenario run (`create database … template`),
 * so a fresh database costs a file copy instead of the whole migration history.
 */
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const name = `earshot_bench_template_${randomBytes(4).toString('hex')}`;
    await admin((sql) => sql.unsafe(`create database ${name}`));
    created.add(name);
    const handle = await connectBenchDatabase(databaseUrl(name));
    await handle.migrate();
    await handle.close();
    return name;
  })();
  return template;
}

/** A fresh database: migrated (a copy of the template) or empty (for start-up runs that migrate it themselves). */
export async function createBenchDatabase(
  options: { migrated?: boolean } = {},
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `earshot_bench_${randomBytes(5).toString('hex')}`;
  const from = options.migrated === false ? null : await migratedTemplate();
  await admin((sql) => sql.unsafe(`create database ${name}${from ? ` template ${from}` : ''}`));
  created.add(name);
  return {
    url: databaseUrl(name),
    drop: async () => {
      created.delete(name);
      await admin((sql) => sql.unsafe(`drop database if exists ${name} with (force)`));
    },
  };
}

/** Earshot's own client on a bench database (one the template copied, so already migrated). */
export function connectBenchDatabase(url: string, maxConnections = 1): Promise<DatabaseHandle> {
  return openDatabase({ url, dataDir: 'unused', migrationsFolder: MIGRATIONS_FOLDER, maxConnections });
}

/** A fresh, migrated database opened with Earshot's own client; `close` drops it. */
export async function openBenchDatabase(
  options: { maxConnections?: number } = {},
): Promise<DatabaseHandle & { url: string }> {
  const database = await createBenchDatabase();
  const handle = await connectBenchDatabase(database.url, options.maxConnections ?? 10);
  return {
    ...handle,
    url: database.url,
    close: async () => {
      await handle.close();
      await database.drop();
    },
  };
}

/** Drops whatever this process created and did not drop yet (the template, a run that failed). */
export async function dropBenchDatabases(): Promise<void> {
  const names = [...created];
  created.clear();
  template = undefined;
  if (names.length === 0) return;
  await admin(async (sql) => {
    for (const name of names) await sql.unsafe(`drop database if exists ${name} with (force)`);
  });
}
