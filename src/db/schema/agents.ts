import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { agentRole } from './enums.js';

/** Slack users Earshot knows, with the role that decides what they may do. */
export const agents = pgTable('agents', {
  slackUserId: text('slack_user_id').primaryKey(),
  role: agentRole('role').notNull(),
  /**
   * Who set the role with `/earshot role` (a Slack user id); such a role is final. Null: the role
   * came from the bootstrap (EARSHOT_DEFAULT_ROLE, or admin for Slack's owners and admins) and
   * follows what Slack says about the user.
   */
  roleSetBy: text('role_set_by'),
  displayName: text('display_name'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
