import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { tickets } from '../db/schema/index.js';
import { countAssignedTickets, countOpenQueue, listAssignedTickets, listOpenQueue } from '../tickets/queries.js';
import { OPEN_STATUSES, type Ticket } from '../tickets/types.js';

/** A first response due within this many minutes counts as an SLA warning. */
export const SLA_WARNING_MINUTES = 30;

export interface PersonalQueue {
  mine: Ticket[];
  unclaimed: Ticket[];
  /** Open tickets near or past their first-response or resolution target, soonest first. */
  slaWarnings: Ticket[];
  /** Each list's full length: a list holds only its first `limit` (the most urgent). */
  totals: { mine: number; unclaimed: number; slaWarnings: number };
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
  // The deadline that matters: the first response until someone answered, then the resolution.
  const due = sql`case when ${tickets.firstResponseAt} is null then ${tickets.firstResponseDueAt} else ${tickets.resolutionDueAt} end`;
  return db
    .select()
    .from(tickets)
    .where(slaWarningWhere(input))
    .orderBy(sql`${due} asc nulls last`, asc(tickets.id))
    .limit(input.limit);
}

/** How many tickets listSlaWarnings would answer without its limit. */
export async function countSlaWarnings(db: Database, input: { now: Date; withinMinutes?: number }): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(tickets).where(slaWarningWhere(input));
  return Number(row?.n ?? 0);
}

function slaWarningWhere(input: { now: Date; withinMinutes?: number }) {
  const horizon = new Date(input.now.getTime() + (input.withinMinutes ?? SLA_WARNING_MINUTES) * 60_000);
  const alerted = ['warning', 'breached'] as const;
  return and(
    inArray(tickets.status, [...OPEN_STATUSES]),
    eq(tickets.spam, 0),
    or(
      and(isNull(tickets.firstResponseAt), lte(tickets.firstResponseDueAt, horizon)),
      lte(tickets.resolutionDueAt, horizon),
      and(isNull(tickets.firstResponseAt), inArray(tickets.firstResponseSla, [...alerted])),
      inArray(tickets.resolutionSla, [...alerted]),
    ),
  );
}

/** What a user's App Home shows: their tickets, the unclaimed queue, and tickets about to miss their SLA. */
export async function getPersonalQueue(
  db: Database,
  input: { userId: string; now?: Date; limit?: number },
): Promise<PersonalQueue> {
  const now = input.now ?? new Date();
  const limit = input.limit ?? 15;
  const warningLimit = Math.min(limit, 10);
  const [mine, unclaimed, slaWarnings] = await Promise.all([
    listAssignedTickets(db, input.userId, { limit }),
    listOpenQueue(db, { limit, unclaimedOnly: true }),
    listSlaWarnings(db, { now, limit: warningLimit }),
  ]);
  // A list shorter than its limit is whole; only a full one is counted.
  const total = (list: Ticket[], max: number, count: () => Promise<number>) =>
    list.length < max ? Promise.resolve(list.length) : count();
  const [mineTotal, unclaimedTotal, warningTotal] = await Promise.all([
    total(mine, limit, () => countAssignedTickets(db, input.userId)),
    total(unclaimed, limit, () => countOpenQueue(db, { unclaimedOnly: true })),
    total(slaWarnings, warningLimit, () => countSlaWarnings(db, { now })),
  ]);
  return {
    mine,
    unclaimed,
    slaWarnings,
    totals: { mine: mineTotal, unclaimed: unclaimedTotal, slaWarnings: warningTotal },
    now,
  };
}
