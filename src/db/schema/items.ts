import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { authors } from './authors.js';
import { sources } from './sources.js';
import { tickets } from './tickets.js';

/**
 * Every inbound post or message, exactly once per (source, external_id): the raw payload is kept
 * so a later triage model can re-read what arrived.
 */
export const items = pgTable(
  'items',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    sourceId: integer('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    externalId: text('external_id').notNull(),
    authorId: integer('author_id')
      .notNull()
      .references(() => authors.id, { onDelete: 'cascade' }),
    /** Set once the item has been triaged and attached; null means it still waits in the triage queue. */
    ticketId: integer('ticket_id').references(() => tickets.id, { onDelete: 'set null' }),
    text: text('text').notNull(),
    url: text('url'),
    /** The root of the conversation this post belongs to (X conversation_id, email thread id). */
    conversationId: text('conversation_id'),
    /** The external id of the post this one answers. */
    parentExternalId: text('parent_external_id'),
    language: text('language'),
    raw: jsonb('raw').$type<unknown>(),
    triage: jsonb('triage').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('items_source_external_key').on(t.sourceId, t.externalId),
    index('items_ticket_idx').on(t.ticketId),
    index('items_conversation_idx').on(t.sourceId, t.conversationId),
    index('items_unprocessed_idx').on(t.id).where(sql`${t.processedAt} is null`),
    index('items_received_idx').on(t.receivedAt),
  ],
);
