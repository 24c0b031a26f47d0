import { lt, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { processedSlackEvents } from '../db/schema/index.js';

/**
 * Records a Slack event id; true the first time, false for a repeat. Slack retries an event
 * (`x-slack-retry-num`) when it did not see our answer in time, so a retry may arrive while or after
 * the first delivery ran: the first one to insert handles it, every repeat is dropped.
 */
export async function markSlackEventProcessed(db: Database, eventId: string): Promise<boolean> {
  const inserted = await db
    .insert(processedSlackEvents)
    .values({ eventId })
    .onConflictDoNothing()
    .returning({ eventId: processedSlackEvents.eventId });
  return inserted.length > 0;
}

/** Forgets event ids older than Slack retries for (it gives up after about an hour). */
export async function pruneProcessedSlackEvents(db: Database, olderThan: Date): Promise<void> {
  await db
    .delete(processedSlackEvents)
    .where(lt(processedSlackEvents.receivedAt, sql`${olderThan.toISOString()}::timestamptz`));
}
