import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { deliveryStatus } from './enums.js';
import { sources } from './sources.js';
import { tickets } from './tickets.js';

/**
 * Slack deliveries written in the same transaction as the change they announce, and worked off
 * by the delivery worker: a card that cannot be posted now is posted later, never dropped.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** `card` (post or refresh a ticket card), `thread` (a line in its thread), `message`, `dm`, `digest` (a burst's card; its payload keeps the folded ticket ids). */
    kind: text('kind').notNull(),
    channel: text('channel').notNull(),
    ticketId: integer('ticket_id').references(() => tickets.id, { onDelete: 'cascade' }),
    eventId: integer('event_id'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    /** Collapses repeats: a pending card refresh per ticket, one delivery per event. */
    dedupeKey: text('dedupe_key'),
    status: deliveryStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('outbox_pending_dedupe_key')
      .on(t.dedupeKey)
      .where(sql`${t.status} = 'pending' and ${t.dedupeKey} is not null`),
    index('outbox_due_idx').on(t.nextAttemptAt, t.id).where(sql`${t.status} = 'pending'`),
    index('outbox_channel_idx').on(t.channel, t.id).where(sql`${t.status} = 'pending'`),
  ],
);

/** Replies to customers, handed to the source's outbound path (X or the webhook reply endpoint). */
export const replies = pgTable(
  'replies',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    ticketId: integer('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    sourceId: integer('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    /** Slack user who pressed send. */
    sentBy: text('sent_by').notNull(),
    text: text('text').notNull(),
    /** The posts the text was split into, in order. */
    parts: jsonb('parts').$type<string[]>().notNull(),
    /** Ids the channel gave each posted part, in order; lets a retry resume where it stopped. */
    externalIds: jsonb('external_ids').$type<string[]>().notNull().default([]),
    /** Repeat submissions of the same modal carry the same key and create nothing new. */
    idempotencyKey: text('idempotency_key').notNull(),
    status: deliveryStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('replies_idempotency_key').on(t.idempotencyKey),
    index('replies_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('replies_ticket_idx').on(t.ticketId),
    // X ingestion asks whether a post is one of ours: `external_ids @> '["<id>"]'`.
    index('replies_external_ids_idx').using('gin', t.externalIds.op('jsonb_path_ops')),
  ],
);
