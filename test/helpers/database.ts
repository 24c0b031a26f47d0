import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';

export type DatabaseKind = 'pglite' | 'postgres';

/** A migrated database of its own for one suite; real Postgres suites get a fresh database that is dropped after. */
export async function openTestDatabase(
  kind: DatabaseKind,
  options: { maxConnections?: number } = {},
): Promise<DatabaseHandle> {
  if (kind === 'pglite') {
    const handle = await openDatabase({ dataDir: 'memory://', migrationsFolder: MIGRATIONS_FOLDER });
    await handle.migrate();
    return handle;
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `earshot_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
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
    close: async () => {
      await handle.close();
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

export const hasRealPostgres = Boolean(process.env.TEST_DATABASE_URL);

/**
 * Runs a suite once on PGlite and once on real PostgreSQL. Without TEST_DATABASE_URL the Postgres
 * run shows up as skipped, by name, rather than vanishing.
 */
export function describeEachDatabase(
  title: string,
  body: (db: () => DatabaseHandle) => void,
  kinds: DatabaseKind[] = ['pglite', 'postgres'],
): void {
  for (const kind of kinds) {
    if (kind === 'postgres' && !hasRealPostgres) {
      describe.skip(`${title} [postgres: set TEST_DATABASE_URL to run]`, () => {
        it('runs against real PostgreSQL', () => {});
      });
      continue;
    }
    describe(`${title} [${kind}]`, () => {
      let handle: DatabaseHandle | undefined;
      beforeAll(async () => {
        handle = await openTestDatabase(kind);
      });
      afterAll(async () => {
        await handle?.close();
      });
      body(() => {
        if (!handle) throw new Error('database not open yet');
        return handle;
      });
    });
  }
}
