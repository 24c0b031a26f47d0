import { index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** One alert per wave: repeats of the same trigger update it instead of raising another. */
export const crisisAlerts = pgTable(
  'crisis_alerts',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** `volume`, `negative_surge`, `cross_source`, `influencer`. */
    kind: text('kind').notNull(),
    /** Groups one wave: kind plus source/topic. */
    groupKey: text('group_key').notNull(),
    /** `open`, `acknowledged`, `incident`, `snoozed`, `resolved`. */
    status: text('status').notNull().default('open'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    channel: text('channel'),
    slackTs: text('slack_ts'),
    acknowledgedBy: text('acknowledged_by'),
    snoozedUntil: timestamp('snoozed_until', { withTimezone: true }),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
  },
  (t) => [index('crisis_alerts_group_idx').on(t.groupKey, t.lastSeenAt)],
);

/** A declared incident: matching tickets, now and later, link to it. */
export const incidents = pgTable('incidents', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  title: text('title').notNull(),
  alertId: integer('alert_id').references(() => crisisAlerts.id, { onDelete: 'set null' }),
  /** What later items must match to join: topics, sources. */
  match: jsonb('match').$type<Record<string, unknown>>().notNull().default({}),
  status: text('status').notNull().default('open'),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  resolvedAt: timestamp('resolved_at', { withTimezone: true }),
});
