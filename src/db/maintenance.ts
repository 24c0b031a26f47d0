import { sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { authors, items, outbox, ticketEvents, tickets } from './schema/index.js';

/**
 * What autovacuum does on a PostgreSQL server, for the embedded database. PGlite runs PostgreSQL as
 * a single user, where the autovacuum launcher never starts (the setting still reads `on`): without
 * this no table is ever analyzed, so the planner guesses from page counts, and none is vacuumed, so
 * every update (a card refresh, a delivered outbox row, a processed mark) leaves its dead row for
 * good. One `VACUUM (ANALYZE)` of the database; on a server, autovacuum is left to do it.
 */
export async function vacuumEmbedded(db: Database): Promise<void> {
  // The scheduler logs the run with its duration.
  await db.execute(sql`vacuum (analyze)`);
}

/**
 * Statistics for the tables a bulk import fills. Until they are analyzed the planner guesses from
 * page counts: on PGlite that lasts until the hourly `embedded-maintenance` run, on a server until
 * autovacuum reaches them. Reports and the SLA sweep plan on these row counts from the first query.
 */
export async function analyzeImported(db: Database): Promise<void> {
  await db.execute(sql`analyze ${authors}, ${items}, ${tickets}, ${ticketEvents}, ${outbox}`);
}
