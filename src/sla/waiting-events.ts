import { and, eq, or, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { ticketEvents } from '../db/schema/index.js';
import type { TicketEvent } from '../tickets/types.js';

/**
 * A ticket's status changes into and out of `waiting`, the input `pausesOf` needs within business
 * hours (where a pause fell decides how much business time it covered). Read only for a ticket that
 * has paused: around the clock, or never paused, the stored paused seconds say it all.
 */
export async function loadWaitingTransitions(
  db: Database,
  ticketId: number,
): Promise<Pick<TicketEvent, 'createdAt' | 'before' | 'after'>[]> {
  return db
    .select({ createdAt: ticketEvents.createdAt, before: ticketEvents.before, after: ticketEvents.after })
    .from(ticketEvents)
    .where(
      and(
        eq(ticketEvents.ticketId, ticketId),
        or(sql`${ticketEvents.before}->>'status' = 'waiting'`, sql`${ticketEvents.after}->>'status' = 'waiting'`),
      ),
    );
}
