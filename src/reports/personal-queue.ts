import { and, asc, eq, inArray, isNull, lte } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { tickets } from '../db/schema/index.js';
import { listAssignedTickets, listOpenQueue } from '../tickets/queries.js';
import { OPEN_STATUSES, type Ticket } from '../tickets/types.js';

/** A first response due within this many minutes counts as an SLA warning. */
export const SLA_WARNING_MINUTES = 30;

export interface PersonalQueue {
  mine: Ticket[];
  unclaimed: Ticket[];
  /** Open tickets not yet answered whose first-response due time is near or past, soonest first. */
  slaWarnings: Ticket[];
  now: Date;
}

/** Open tickets without a first response whose due time is before `now + withinMinutes`. */
export async function listSlaWarnings(
  db: Database,
  input: { now: Date; withinMinutes?: number; limit: number },
): Promise<Ticket[]> {
  const horizon = new Date(input.now.getTime() + (input.withinMinutes ?? SLA_WARNING_MINUTES) * 60_000);
  return db
    .select()
    .from(tickets)
    .where(
      and(
        inArray(tickets.status, [...OPEN_STATUSES]),
        eq(tickets.spam, 0),
        isNull(tickets.firstResponseAt),
        lte(tickets.firstResponseDueAt, horizon),
      ),
    )
    .orderBy(asc(tickets.firstResponseDueAt))
    .limit(input.limit);
}

/** What a user's App Home shows: their tickets, the unclaimed queue, and tickets about to miss their SLA. */
export async function getPersonalQueue(
  db: Database,
  input: { userId: string; now?: Date; limit?: number },
): Promise<PersonalQueue> {
  const now = input.now ?? new Date();
  const limit = input.limit ?? 15;
  return {
    mine: await listAssignedTickets(db, input.userId, { limit }),
    unclaimed: await listOpenQueue(db, { limit, unclaimedOnly: true }),
    slaWarnings: await listSlaWarnings(db, { now, limit: 10 }),
    now,
  };
}
