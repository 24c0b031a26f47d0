import { sql } from 'drizzle-orm';
import { boolean, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { sourceKind } from './enums.js';

/** A channel Earshot listens to: an X account or rule set, or a signed webhook channel. */
export const sources = pgTable(
  'sources',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    kind: sourceKind('kind').notNull(),
    /** Kind-specific settings: reply endpoint, auto-acknowledgement, X account id. */
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    /** Standard Webhooks secret (whsec_…) for webhook sources; null for X. */
    secret: text('secret'),
    /** Ingestion cursor: the newest external id seen (X post ids are compared as BigInt). */
    cursor: text('cursor'),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('sources_name_key').on(sql`lower(${t.name})`)],
);

/** X filtered-stream monitoring rules, kept here and synced to X on change; one row per (source, query). */
export const streamRules = pgTable(
  'stream_rules',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    sourceId: integer('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    value: text('value').notNull(),
    tag: text('tag'),
    /** The id X assigned when the rule was added; null until synced (and always in polling mode). */
    externalId: text('external_id'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('stream_rules_source_value_key').on(t.sourceId, t.value)],
);
