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

/** A fresh, migrated database for one scenario, dropped by `close`. */
export async function openBenchDatabase(
  options: { maxConnections?: number } = {},
): Promise<DatabaseHandle & { url: string }> {
  const server = benchServerUrl();
  const name = `earshot_bench_${randomBytes(5).toString('hex')}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  const handle = await openDatabase({
    url: url.toString(),
    dataDir: 'unused',
    migrationsFolder: MIGRATIONS_FOLDER,
    maxConnections: options.maxConnections ?? 20,
  });
  await handle.migrate();
  return {
    ...handle,
    url: url.toString(),
    close: async () => {
      await handle.close();
      const dropper = postgres(server, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}
