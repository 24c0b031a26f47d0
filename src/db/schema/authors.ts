import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, timestamp, unique, uniqueIndex } from 'drizzle-orm/pg-core';
import { sources } from './sources.js';

/** A customer as one source knows them; their history across tickets hangs off this row. */
export const authors = pgTable(
  'authors',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    sourceId: integer('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    externalId: text('external_id').notNull(),
    handle: text('handle'),
    displayName: text('display_name'),
    followerCount: integer('follower_count').notNull().default(0),
    verified: boolean('verified').notNull().default(false),
    /** On the VIP list (`vip_authors`), kept by the author upsert and by `/earshot vip add|remove`. */
    vip: boolean('vip').notNull().default(false),
    language: text('language'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('authors_source_external_key').on(t.sourceId, t.externalId),
    // Every lookup by handle ignores case (find @handle, forget, the VIP list).
    index('authors_handle_lower_idx').on(sql`lower(${t.handle})`),
  ],
);

/**
 * The VIP list: customers the team wants to hear first, by handle (lower case, no `@`), on one
 * source or on every source (`source_id` null). A handle may be listed before its author is ever
 * seen; `authors.vip` is the flag triage reads.
 */
export const vipAuthors = pgTable(
  'vip_authors',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    handle: text('handle').notNull(),
    sourceId: integer('source_id').references(() => sources.id, { onDelete: 'cascade' }),
    /** Why they are on the list ("enterprise account"), shown by `/earshot vip list`. */
    note: text('note'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // Handle first: the author upsert looks a handle up for its own source and for every source.
  (t) => [unique('vip_authors_handle_source_key').on(t.handle, t.sourceId).nullsNotDistinct()],
);
