import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';
import { hasRealPostgres } from '../helpers/database.js';

describe.skipIf(!hasRealPostgres)('migrations on real PostgreSQL', () => {
  it('are applied once when five replicas start at the same moment', async () => {
    const adminUrl = process.env.TEST_DATABASE_URL!;
    const name = `earshot_mig_${randomBytes(5).toString('hex')}`;
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    try {
      const replicas = await Promise.all(
        Array.from({ length: 5 }, () =>
          openDatabase({
            url: url.toString(),
            dataDir: 'unused',
            migrationsFolder: MIGRATIONS_FOLDER,
            maxConnections: 2,
          }),
        ),
      );
      await Promise.all(replicas.map((replica) => replica.migrate()));
      await Promise.all(replicas.map((replica) => replica.close()));
      const check = postgres(url.toString(), { max: 1, onnotice: () => {} });
      const applied = await check`select count(*)::int as n from drizzle.__drizzle_migrations`;
      const files = await import('node:fs').then((fs) =>
        fs.readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql')),
      );
      expect(applied[0]?.n).toBe(files.length);
      await check.end();
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
