import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { replies, tags } from '../db/schema/index.js';

/** The tag catalogue the Tag modal offers, alphabetically. */
export async function listKnownTags(db: Database, limit = 500): Promise<string[]> {
  const rows = await db.select({ name: tags.name }).from(tags).orderBy(asc(tags.name)).limit(limit);
  return rows.map((row) => row.name);
}

/** A ticket's replies, oldest first, for the full conversation. */
export async function listTicketReplies(db: Database, ticketId: number) {
  return db
    .select()
    .from(replies)
    .where(eq(replies.ticketId, ticketId))
    .orderBy(asc(replies.createdAt), asc(replies.id));
}
