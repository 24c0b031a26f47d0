import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { agentRole } from './enums.js';

/** Slack users Earshot knows, with the role that decides what they may do. */
export const agents = pgTable('agents', {
  slackUserId: text('slack_user_id').primaryKey(),
  role: agentRole('role').notNull(),
  displayName: text('display_name'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
