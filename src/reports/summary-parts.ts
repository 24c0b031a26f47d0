import { and, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';
import { tickets } from '../db/schema/index.js';
import type { SummaryFilter, TimelinePoint } from './summarize.js';

/** A count by key (a category, a sentiment, a source id, a topic). */
export interface KeyCount {
  key: string | null;
  count: number;
}

/**
 * A period's numbers before they are merged with the previous period's into the report. Both ways
 * of computing the report (from the tickets alone, or from rollups and tickets) produce this.
 */
export interface Figures {
  total: number;
  spam: number;
  frCount: number;
  frMedian: number | null;
  frP90: number | null;
  resolved: number;
  resMedian: number | null;
  resP90: number | null;
  frMet: number;
  frBreached: number;
  resMet: number;
  resBreached: number;
  customers: number;
  customersAnswered: number;
  previousTotal: number;
  byCategory: KeyCount[];
  prevCategory: KeyCount[];
  bySentiment: KeyCount[];
  prevSentiment: KeyCount[];
  bySource: KeyCount[];
  prevSource: KeyCount[];
  /** The 20 biggest topics of each period, biggest first (ties in the database's text order). */
  topics: KeyCount[];
  prevTopics: KeyCount[];
  /** In the report's order: most resolved, then most replied, then by id in the database's text order. */
  agents: AgentFigures[];
}

export interface AgentFigures {
  agent: string;
  claimed: number;
  replied: number;
  resolved: number;
  median: number | null;
}

/** The period a report covers, with its defaults filled in. */
export interface Period {
  from: Date;
  to: Date;
  previousFrom: Date;
  now: Date;
  filter: SummaryFilter;
  timeZone: string;
}

export type Bucket = 'hour' | 'day';

export interface TimelineInput {
  from: Date;
  to: Date;
  filter?: SummaryFilter;
  timeZone?: string;
}

/** Hourly buckets for periods up to two days, local days beyond. */
export function timelineBucket(period: { from: Date; to: Date }): Bucket {
  return period.to.getTime() - period.from.getTime() <= 2 * 86_400_000 ? 'hour' : 'day';
}

export function num(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

export function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function filterCondition(filter: SummaryFilter): SQL | undefined {
  return and(
    filter.sourceId !== undefined ? eq(tickets.sourceId, filter.sourceId) : undefined,
    filter.channel !== undefined ? eq(tickets.channel, filter.channel) : undefined,
    filter.tag !== undefined ? sql`${tickets.tags} @> array[${filter.tag}]::text[]` : undefined,
  );
}

type TimelineRow = { at: string | Date; total: number; negative: number; neutral: number; positive: number };

export function timelinePoints(rows: TimelineRow[]): TimelinePoint[] {
  return rows.map((r) => ({
    at: new Date(r.at),
    total: num(r.total),
    negative: num(r.negative),
    neutral: num(r.neutral),
    positive: num(r.positive),
  }));
}

/** The volume chart from the tickets alone. */
export async function rawTimeline(db: Database, input: TimelineInput & { bucket: Bucket }): Promise<TimelinePoint[]> {
  const where = and(
    gte(tickets.createdAt, input.from),
    lt(tickets.createdAt, input.to),
    eq(tickets.spam, 0),
    filterCondition(input.filter ?? {}),
  );
  return timelinePoints(
    rowsOf<TimelineRow>(
      await db.execute(sql`
        select date_trunc(${input.bucket}, ${tickets.createdAt}, ${input.timeZone ?? 'UTC'}) as at, count(*)::int as total,
               count(*) filter (where ${tickets.sentiment} = 'negative')::int as negative,
               count(*) filter (where ${tickets.sentiment} = 'neutral')::int as neutral,
               count(*) filter (where ${tickets.sentiment} = 'positive')::int as positive
        from ${tickets} where ${where}
        group by 1 order by 1`),
    ),
  );
}
