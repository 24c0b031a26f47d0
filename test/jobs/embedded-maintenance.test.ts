import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { rowsOf } from '../../src/db/database.js';
import { buildJobs } from '../../src/jobs/catalog.js';
import { createLogger } from '../../src/logger.js';
import { openTestDatabase } from '../helpers/database.js';

const config = loadConfig({});
const logger = createLogger({ level: 'silent' });

describe('embedded database maintenance', () => {
  it('is a job only with PGlite, where no autovacuum runs', () => {
    const names = (kind: 'pglite' | 'postgres') => buildJobs(config, null, kind).map((job) => job.name);
    expect(names('pglite')).toContain('embedded-maintenance');
    expect(names('postgres')).not.toContain('embedded-maintenance');
  });

  it('vacuums and analyzes what PGlite leaves as it is', async () => {
    const handle = await openTestDatabase('pglite');
    try {
      const { db } = handle;
      await db.execute(sql`create table scratch (id int primary key, v int)`);
      await db.execute(sql`insert into scratch select g, g from generate_series(1, 5000) g`);
      await db.execute(sql`update scratch set v = v + 1`);
      const stats = async () => {
        const [row] = rowsOf<{ dead: number; analyzed: boolean; vacuumed: boolean; tuples: number }>(
          await db.execute(sql`
            select s.n_dead_tup::int as dead, s.last_analyze is not null as analyzed,
                   s.last_vacuum is not null as vacuumed, c.reltuples::int as tuples
            from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname = 'scratch'`),
        );
        return row;
      };
      // Never analyzed (the planner's row count is unknown) nor vacuumed: on a server, autovacuum
      // would have done both by now.
      expect(await stats()).toMatchObject({ analyzed: false, vacuumed: false, tuples: -1 });

      const job = buildJobs(config, null, 'pglite').find((j) => j.name === 'embedded-maintenance')!;
      const now = new Date();
      await job.run({ db, logger, scheduledFor: now, now: () => now });
      // The statistics views are fed asynchronously; the catalog's row count is not.
      await expect.poll(stats, { timeout: 10_000 }).toMatchObject({
        dead: 0,
        analyzed: true,
        vacuumed: true,
        tuples: 5000,
      });
    } finally {
      await handle.close();
    }
  });
});
