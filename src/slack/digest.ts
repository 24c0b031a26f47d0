import { asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { authors, items, tickets } from '../db/schema/index.js';
import type { DigestEntry } from './blocks/digest-card.js';

/** The tickets a digest card stands for, with their author's handle and first message. */
export async function listDigestEntries(db: Database, ticketIds: readonly number[]): Promise<DigestEntry[]> {
  if (ticketIds.length === 0) return [];
  const rows = await db
    .select({
      id: tickets.id,
      priority: tickets.priority,
      category: tickets.category,
      status: tickets.status,
      handle: authors.handle,
    })
    .from(tickets)
    .innerJoin(authors, eq(authors.id, tickets.authorId))
    .where(inArray(tickets.id, [...ticketIds]));
  const texts = await db
    .select({ ticketId: items.ticketId, text: items.text })
    .from(items)
    .where(inArray(items.ticketId, [...ticketIds]))
    .orderBy(asc(items.id));
  const first = new Map<number, string>();
  for (const row of texts) if (row.ticketId !== null && !first.has(row.ticketId)) first.set(row.ticketId, row.text);
  return rows.map((row) => ({
    id: row.id,
    priority: row.priority,
    category: row.category,
    status: row.status,
    handle: row.handle,
    text: first.get(row.id) ?? '',
  }));
}
