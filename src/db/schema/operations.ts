import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per scheduled tick of a job: the unique key lets exactly one replica claim a tick,
 * and the row records how the run went.
 */
export const jobRuns = pgTable(
  'job_runs',
  {
    job: text('job').notNull(),
    scheduledFor: timestamp('scheduled_for', { withTimezone: true }).notNull(),
    runner: text('runner').notNull(),
    status: text('status').notNull().default('running'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    durationMs: integer('duration_ms'),
    error: text('error'),
  },
  (t) => [
    primaryKey({ columns: [t.job, t.scheduledFor] }),
    // Every claim asks "is a run of this job still going?": only running rows are indexed, so the
    // answer does not read the job's whole history.
    index('job_runs_running_idx').on(t.job, t.startedAt).where(sql`${t.status} = 'running'`),
  ],
);

/** Leases for work only one replica may do at a time (the X stream); expired leases can be taken over. */
export const leases = pgTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/** Slack event ids already handled, so Slack's retries (x-slack-retry-num) change nothing. */
export const processedSlackEvents = pgTable(
  'processed_slack_events',
  {
    eventId: text('event_id').primaryKey(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('processed_slack_events_received_idx').on(t.receivedAt)],
);

/** Triage results keyed by a hash of the text and provider, so repeats cost no model call. */
export const triageCache = pgTable('triage_cache', {
  key: text('key').primaryKey(),
  provider: text('provider').notNull(),
  result: jsonb('result').$type<Record<string, unknown>>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
