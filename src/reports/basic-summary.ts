import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { tickets } from '../db/schema/index.js';
import type { Category, Sentiment, TicketStatus } from '../tickets/types.js';

export const SUMMARY_PERIODS = ['today', '7d', '30d'] as const;
export type SummaryPeriod = (typeof SUMMARY_PERIODS)[number];

/** Where a period starts: today is since midnight UTC, 7d and 30d are rolling windows. */
export function periodStart(period: SummaryPeriod, now: Date): Date {
  if (period === 'today') return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const days = period === '7d' ? 7 : 30;
  return new Date(now.getTime() - days * 24 * 60 * 60_000);
}

export interface BasicSummary {
  period: SummaryPeriod;
  since: Date;
  until: Date;
  /** Tickets opened in the period, spam left out. */
  total: number;
  spam: number;
  byStatus: Partial<Record<TicketStatus, number>>;
  byCategory: Partial<Record<Category, number>>;
  bySentiment: Partial<Record<Sentiment, number>>;
  /** Tickets of the period answered so far, and the median time from opening to the first reply. */
  answered: number;
  medianFirstResponseSeconds: number | null;
}

/**
 * `/earshot summary`: counts of the tickets opened in a period by status, category and sentiment, and
 * the median first-response time. The lead report (SLA attainment, trends, per-agent) builds on this.
 */
export async function getBasicSummary(db: Database, input: { period: SummaryPeriod; now?: Date }) {
  const until = input.now ?? new Date();
  const since = periodStart(input.period, until);
  const inPeriod = and(gte(tickets.createdAt, since), lt(tickets.createdAt, until));
  const real = and(inPeriod, eq(tickets.spam, 0));

  const countBy = async <K extends string>(
    column: typeof tickets.status | typeof tickets.category | typeof tickets.sentiment,
  ) => {
    const rows = await db
      .select({ key: column, count: sql<number>`count(*)::int` })
      .from(tickets)
      .where(real)
      .groupBy(column);
    return Object.fromEntries(rows.map((row) => [row.key, Number(row.count)])) as Partial<Record<K, number>>;
  };

  const [byStatus, byCategory, bySentiment] = [
    await countBy<TicketStatus>(tickets.status),
    await countBy<Category>(tickets.category),
    await countBy<Sentiment>(tickets.sentiment),
  ];
  const [totals] = await db
    .select({
      total: sql<number>`count(*) filter (where ${tickets.spam} = 0)::int`,
      spam: sql<number>`count(*) filter (where ${tickets.spam} <> 0)::int`,
      answered: sql<number>`count(${tickets.firstResponseAt}) filter (where ${tickets.spam} = 0)::int`,
      median: sql<
        number | null
      >`percentile_cont(0.5) within group (order by extract(epoch from ${tickets.firstResponseAt} - ${tickets.createdAt})) filter (where ${tickets.spam} = 0 and ${tickets.firstResponseAt} is not null)`,
    })
    .from(tickets)
    .where(inPeriod);

  const median = totals?.median;
  return {
    period: input.period,
    since,
    until,
    total: Number(totals?.total ?? 0),
    spam: Number(totals?.spam ?? 0),
    byStatus,
    byCategory,
    bySentiment,
    answered: Number(totals?.answered ?? 0),
    medianFirstResponseSeconds: median === null || median === undefined ? null : Math.round(Number(median)),
  } satisfies BasicSummary;
}
