import { asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { authors, items, tickets } from '../db/schema/index.js';

/** Who wrote a ticket and how it starts, for one-line listings (queue, find, App Home). */
export interface TicketExcerpt {
  handle: string | null;
  displayName: string | null;
  /** On the VIP list: the listing marks the author ⭐. */
  vip: boolean;
  /** The first customer message, unescaped and untruncated: the renderer does both. */
  text: string;
  /** That message's triage (its PII spans index into `text`). */
  triage: Record<string, unknown> | null;
}

/** Excerpts for many tickets in two queries, keyed by ticket id. */
export async function getTicketExcerpts(
  db: Database,
  ticketIds: readonly number[],
): Promise<Map<number, TicketExcerpt>> {
  const excerpts = new Map<number, TicketExcerpt>();
  if (ticketIds.length === 0) return excerpts;
  const ids = [...new Set(ticketIds)];
  const people = await db
    .select({ id: tickets.id, handle: authors.handle, displayName: authors.displayName, vip: authors.vip })
    .from(tickets)
    .innerJoin(authors, eq(authors.id, tickets.authorId))
    .where(inArray(tickets.id, ids));
  const firsts = await db
    .selectDistinctOn([items.ticketId], { ticketId: items.ticketId, text: items.text, triage: items.triage })
    .from(items)
    .where(inArray(items.ticketId, ids))
    .orderBy(items.ticketId, asc(items.createdAt), asc(items.id));
  const first = new Map(firsts.map((row) => [row.ticketId, row]));
  for (const person of people) {
    const message = first.get(person.id);
    excerpts.set(person.id, {
      handle: person.handle,
      displayName: person.displayName,
      vip: person.vip,
      text: message?.text ?? '',
      triage: message?.triage ?? null,
    });
  }
  return excerpts;
}
