import { type SQL, sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  date,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/** Histogram buckets per factor e of a duration (each about 6% wide); a second or less is bucket 0. */
export const DURATION_BUCKETS_PER_E = 16;

/**
 * The histogram bucket of `end - start`, written once: the rollups, the report's raw reads and the
 * tickets indexes that fetch one bucket's exact values must all compute the same expression.
 */
export function durationBucket(end: AnyPgColumn | SQL, start: AnyPgColumn | SQL): SQL {
  return sql`(floor(ln(greatest(extract(epoch from (${end} - ${start}))::float8, 1)) * ${sql.raw(String(DURATION_BUCKETS_PER_E))})::int)`;
}

/*
 * Daily rollups of the lead report (src/reports/rollups.ts). A row holds one UTC day's figures of
 * the tickets created that day, as the report's own SQL computes them from the raw rows; the report
 * reads a day's rollup only while the day is clean (built by the current code and not changed since),
 * and the raw rows for every other part of a period. Nothing here is written by ticket code: triggers
 * (migration 0006) append a mark for every day whose tickets, events or replies change, and the
 * report-rollups job rebuilds marked days.
 */

/** A day whose rollups are built, and by which version of the rollup SQL. */
export const reportRollupDays = pgTable('report_rollup_days', {
  day: date('day', { mode: 'string' }).primaryKey(),
  version: integer('version').notNull(),
  builtAt: timestamp('built_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Append-only: a day changed after its rollup was built (or while it was being built). */
export const reportRollupMarks = pgTable(
  'report_rollup_marks',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    day: date('day', { mode: 'string' }).notNull(),
  },
  (t) => [index('report_rollup_marks_day_idx').on(t.day)],
);

/** Ticket counts by metric (tickets, spam, category, sentiment, topic, SLA outcome, …) and key. */
export const reportDayCounts = pgTable(
  'report_day_counts',
  {
    day: date('day', { mode: 'string' }).notNull(),
    sourceId: integer('source_id').notNull(),
    channel: text('channel').notNull(),
    metric: text('metric').notNull(),
    key: text('key').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.sourceId, t.channel, t.metric, t.key] })],
);

/** Claims, replies and resolves by agent on the day's tickets (their timeline events). */
export const reportDayAgents = pgTable(
  'report_day_agents',
  {
    day: date('day', { mode: 'string' }).notNull(),
    sourceId: integer('source_id').notNull(),
    channel: text('channel').notNull(),
    agent: text('agent').notNull(),
    claimed: integer('claimed').notNull(),
    replied: integer('replied').notNull(),
    resolved: integer('resolved').notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.sourceId, t.channel, t.agent] })],
);

/** First-response and resolution times as a histogram over logarithmic buckets. */
export const reportDayDurations = pgTable(
  'report_day_durations',
  {
    day: date('day', { mode: 'string' }).notNull(),
    sourceId: integer('source_id').notNull(),
    channel: text('channel').notNull(),
    metric: text('metric').notNull(),
    bucket: integer('bucket').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.sourceId, t.channel, t.metric, t.bucket] })],
);

/** First-response times by assignee over coarser buckets (for the whole team's report). */
export const reportDayAgentDurations = pgTable(
  'report_day_agent_durations',
  {
    day: date('day', { mode: 'string' }).notNull(),
    agent: text('agent').notNull(),
    bucket: integer('bucket').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.agent, t.bucket] })],
);

/** The day's distinct customers, and those of them who received a reply, as sorted id arrays. */
export const reportDayAuthors = pgTable(
  'report_day_authors',
  {
    day: date('day', { mode: 'string' }).notNull(),
    sourceId: integer('source_id').notNull(),
    channel: text('channel').notNull(),
    authors: integer('authors').array().notNull(),
    answered: integer('answered').array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.sourceId, t.channel] })],
);

/** Tickets per UTC hour by sentiment: the volume chart in any time zone. */
export const reportHourVolume = pgTable(
  'report_hour_volume',
  {
    day: date('day', { mode: 'string' }).notNull(),
    hour: timestamp('hour', { withTimezone: true }).notNull(),
    sourceId: integer('source_id').notNull(),
    channel: text('channel').notNull(),
    total: integer('total').notNull(),
    negative: integer('negative').notNull(),
    neutral: integer('neutral').notNull(),
    positive: integer('positive').notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.hour, t.sourceId, t.channel] })],
);
