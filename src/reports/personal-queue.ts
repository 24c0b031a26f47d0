import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { tickets } from '../db/schema/index.js';
import { listAssignedTickets, listOpenQueue } from '../tickets/queries.js';
import { OPEN_STATUSES, type Ticket } from '../tickets/types.js';

/** A first response due within this many minutes counts as an SLA warning. */
export const SLA_WARNING_MINUTES = 30;

export interface PersonalQueue {
  mine: Ticket[];
  unclaimed: Ticket[];
  /** Open tickets near or past their first-response or resolution target, soonest first. */
  slaWarnings: Ticket[];
  now: Date;
}

/**
 * Open tickets near or past an SLA target, soonest first: not yet answered and the first response
 * due before `now + withinMinutes`, or the resolution due by then, or a clock the SLA sweep already
 * moved to warning (75% of the target) or breached.
 */
export async function listSlaWarnings(
  db: Database,
  input: { now: Date; withinMinutes?: number; limit: number },
): Promise<Ticket[]> {
  const horizon = new Date(input.now.getTime() + (input.withinMinutes ?? SLA_WARNING_MINUTES) * 60_000);
  const alerted = ['warning', 'breached'] as const;
  // The deadline that matters: the first response until someone answered, then the resolution.
  const due = sql`case when ${tickets.firstResponseAt} is null then ${tickets.firstResponseDueAt} else ${tickets.resolutionDueAt} end`;
  return db
    .select()
    .from(tickets)
    .where(
      and(
        inArray(tickets.status, [...OPEN_STATUSES]),
        eq(tickets.spam, 0),
        or(
          and(isNull(tickets.firstResponseAt), lte(tickets.firstResponseDueAt, horizon)),
          lte(tickets.resolutionDueAt, horizon),
          and(isNull(tickets.firstResponseAt), inArray(tickets.firstResponseSla, [...alerted])),
          inArray(tickets.resolutionSla, [...alerted]),
        ),
      ),
    )
    .orderBy(sql`${due} asc nulls last`, asc(tickets.id))
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
