import { boolean, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
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
    vip: boolean('vip').notNull().default(false),
    language: text('language'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('authors_source_external_key').on(t.sourceId, t.externalId),
    index('authors_handle_idx').on(t.handle),
  ],
);
