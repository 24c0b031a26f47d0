import { sql } from 'drizzle-orm';
import { boolean, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** Tags known to the team, offered in the Tag modal. */
export const tags = pgTable('tags', {
  name: text('name').primaryKey(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Canned replies with {{variables}}, offered in the Reply modal. */
export const replyTemplates = pgTable(
  'reply_templates',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    body: text('body').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('reply_templates_name_key').on(sql`lower(${t.name})`)],
);

/** Routing rules, evaluated in position order; the first match wins. */
export const routingRules = pgTable('routing_rules', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  position: integer('position').notNull(),
  name: text('name').notNull(),
  /** Conditions on category, sentiment, priority, language, source, tags, topics, author. */
  conditions: jsonb('conditions').$type<Record<string, unknown>>().notNull(),
  channel: text('channel').notNull(),
  addTags: text('add_tags').array().notNull().default(sql`'{}'::text[]`),
  notify: text('notify'),
  enabled: boolean('enabled').notNull().default(true),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Team-wide settings that admins change from Slack (brand tone, digest schedule, SLA policies). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').$type<unknown>().notNull(),
  updatedBy: text('updated_by'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
