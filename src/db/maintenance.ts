import { sql } from 'drizzle-orm';
import type { Database } from './database.js';

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
