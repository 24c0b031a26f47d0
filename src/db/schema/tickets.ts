import { type SQL, sql } from 'drizzle-orm';
import { type AnyPgColumn, index, integer, jsonb, pgTable, real, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { authors } from './authors.js';
import { incidents } from './crisis.js';
import { sentimentLabel, slaState, ticketCategory, ticketPriority, ticketStatus } from './enums.js';
import { durationBucket } from './reports.js';
import { sources } from './sources.js';

/** The columns `slaClockLive` reads, as the table definition and queries both name them. */
type SlaClockColumns = Record<
  'firstResponseSla' | 'firstResponseAt' | 'resolutionSla' | 'resolvedAt' | 'status' | 'spam',
  AnyPgColumn
>;

/**
 * A ticket the SLA sweep may still have work on: a clock not settled yet (ok or warning) that is
 * running (the ticket open and not spam) or has stopped (answered, resolved) and waits to be marked
 * met or breached. Settled tickets, spam and tickets closed unanswered are out, so the sweep reads
 * the backlog instead of the whole history. It is `tickets_sla_live_idx`'s predicate; the sweep
 * states it in its WHERE as well, so the index can be read in id order (src/sla/sweep.ts).
 */
export function slaClockLive(t: SlaClockColumns): SQL {
  const running = sql`(${t.status} in ('new', 'claimed', 'waiting') and ${t.spam} = 0)`;
  return sql`((${t.firstResponseSla} in ('ok', 'warning') and (${t.firstResponseAt} is not null or ${running})) or (${t.resolutionSla} in ('ok', 'warning') and (${t.resolvedAt} is not null or ${running})))`;
}

/** The unit of work: one customer's conversation until it has an answer. */
export const tickets = pgTable(
  'tickets',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    sourceId: integer('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    authorId: integer('author_id')
      .notNull()
      .references(() => authors.id, { onDelete: 'cascade' }),
    conversationId: text('conversation_id'),
    status: ticketStatus('status').notNull().default('new'),
    priority: ticketPriority('priority').notNull().default('P3'),
    priorityReasons: jsonb('priority_reasons').$type<string[]>().notNull().default([]),
    category: ticketCategory('category').notNull().default('other'),
    sentiment: sentimentLabel('sentiment').notNull().default('neutral'),
    sentimentScore: real('sentiment_score').notNull().default(0),
    language: text('language'),
    topics: text('topics').array().notNull().default(sql`'{}'::text[]`),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    /** Triage output that has no column of its own (urgency signals, emotion, PII spans, provider). */
    triage: jsonb('triage').$type<Record<string, unknown>>().notNull().default({}),
    spam: smallint('spam').notNull().default(0),
    assignee: text('assignee'),
    escalationTier: smallint('escalation_tier').notNull().default(0),
    escalationReason: text('escalation_reason'),
    incidentId: integer('incident_id').references((): AnyPgColumn => incidents.id, { onDelete: 'set null' }),
    /** Slack channel the ticket was routed to, and where its card lives once posted. */
    channel: text('channel').notNull(),
    slackTs: text('slack_ts'),
    itemCount: integer('item_count').notNull().default(1),
    lastCustomerMessageAt: timestamp('last_customer_message_at', { withTimezone: true }).notNull(),
    firstResponseDueAt: timestamp('first_response_due_at', { withTimezone: true }),
    resolutionDueAt: timestamp('resolution_due_at', { withTimezone: true }),
    firstResponseAt: timestamp('first_response_at', { withTimezone: true }),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    /** When the SLA clock stopped (waiting on the customer); null while it runs. */
    slaPausedAt: timestamp('sla_paused_at', { withTimezone: true }),
    slaPausedSeconds: integer('sla_paused_seconds').notNull().default(0),
    firstResponseSla: slaState('first_response_sla').notNull().default('ok'),
    resolutionSla: slaState('resolution_sla').notNull().default('ok'),
    /** Bumped on every change, so card deliveries can tell a stale render from a fresh one. */
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // The open queue exactly as listOpenQueue reads it (same WHERE, same ORDER BY): unclaimed
    // first, then by priority, oldest first, spam left out. Change one, change the other.
    index('tickets_open_queue_idx')
      .on(sql`(${t.assignee} is not null)`, t.priority, t.createdAt)
      .where(sql`${t.status} in ('new', 'claimed', 'waiting') and ${t.spam} = 0`),
    index('tickets_assignee_idx').on(t.assignee, t.status).where(sql`${t.assignee} is not null`),
    index('tickets_created_idx').on(t.createdAt),
    index('tickets_source_created_idx').on(t.sourceId, t.createdAt),
    index('tickets_author_idx').on(t.authorId, t.lastCustomerMessageAt),
    // Partial for the reason items_conversation_idx is (a lookup by source alone must not take it).
    index('tickets_conversation_idx').on(t.sourceId, t.conversationId).where(sql`${t.conversationId} is not null`),
    index('tickets_sla_due_idx').on(t.firstResponseDueAt).where(sql`${t.status} in ('new', 'claimed', 'waiting')`),
    // The SLA sweep pages through these in id order every minute (see slaClockLive).
    index('tickets_sla_live_idx').on(t.id).where(slaClockLive(t)),
    index('tickets_tags_idx').using('gin', t.tags),
    // The lead report finds exact medians and p90s from its histograms: these read the values of the
    // bucket (in a period) that holds the wanted rank, index-only where pages are all-visible. Same
    // expression as src/reports/rollups.ts.
    index('tickets_first_response_bucket_idx')
      .on(durationBucket(t.firstResponseAt, t.createdAt), t.createdAt, t.firstResponseAt, t.assignee)
      .where(sql`${t.spam} = 0 and ${t.firstResponseAt} is not null`),
    index('tickets_resolution_bucket_idx')
      .on(durationBucket(t.resolvedAt, t.createdAt), t.createdAt, t.resolvedAt)
      .where(sql`${t.spam} = 0 and ${t.resolvedAt} is not null`),
  ],
);

/** The append-only timeline of a ticket: the audit log and the card's thread come from these rows. */
export const ticketEvents = pgTable(
  'ticket_events',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    ticketId: integer('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    /** A Slack user id, or `system:<component>` for automatic changes. */
    actor: text('actor').notNull(),
    type: text('type').notNull(),
    before: jsonb('before').$type<Record<string, unknown>>(),
    after: jsonb('after').$type<Record<string, unknown>>(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('ticket_events_ticket_idx').on(t.ticketId, t.id),
    index('ticket_events_type_created_idx').on(t.type, t.createdAt),
  ],
);
