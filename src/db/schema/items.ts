import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
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
    /** Tags the source gave the item (the X rule that matched it); they join the ticket's tags. */
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    /** Imported history: its ticket is stored closed, without a Slack card or an SLA clock. */
    archived: boolean('archived').notNull().default(false),
    triage: jsonb('triage').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('items_source_external_key').on(t.sourceId, t.externalId),
    index('items_ticket_idx').on(t.ticketId),
    // Partial: rows without a conversation are never looked up by it, and a plain (source_id, …)
    // index would tie with the unique key above for a lookup by source and external id, which a
    // plan made on a young table (statistics of a few rows) could then run on this one instead,
    // reading every item of the source.
    index('items_conversation_idx').on(t.sourceId, t.conversationId).where(sql`${t.conversationId} is not null`),
    index('items_unprocessed_idx').on(t.id).where(sql`${t.processedAt} is null`),
    index('items_received_idx').on(t.receivedAt),
    // Erasing one author (`/earshot forget`) and retention's author check find items by author.
    index('items_author_idx').on(t.authorId),
    // `/earshot find <words>` matches anywhere in the text (ILIKE '%…%'), which a b-tree cannot
    // serve: without trigrams every search reads every item. Needs pg_trgm (migration 0011). Partial:
    // find searches tickets, and an item enters the index once, when triage attaches it (the update
    // that sets ticket_id writes new index entries anyway), not a second time on its receipt.
    index('items_text_trgm_idx').using('gin', t.text.op('gin_trgm_ops')).where(sql`${t.ticketId} is not null`),
  ],
);
