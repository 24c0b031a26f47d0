import type { InferSelectModel } from 'drizzle-orm';
import type { agents, authors, items, replies, sources, ticketEvents, tickets } from '../db/schema/index.js';

export type Ticket = InferSelectModel<typeof tickets>;
export type TicketEvent = InferSelectModel<typeof ticketEvents>;
export type Item = InferSelectModel<typeof items>;
export type Author = InferSelectModel<typeof authors>;
export type Source = InferSelectModel<typeof sources>;
export type AgentRow = InferSelectModel<typeof agents>;
export type Reply = InferSelectModel<typeof replies>;

export type TicketStatus = Ticket['status'];
export type Priority = Ticket['priority'];
export type Category = Ticket['category'];
export type Sentiment = Ticket['sentiment'];
export type Role = AgentRow['role'];

export const OPEN_STATUSES = ['new', 'claimed', 'waiting'] as const satisfies readonly TicketStatus[];
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const satisfies readonly Priority[];
export const CATEGORIES = [
  'question',
  'complaint',
  'bug_report',
  'suggestion',
  'praise',
  'other',
] as const satisfies readonly Category[];
export const ROLES = ['admin', 'lead', 'agent', 'viewer'] as const satisfies readonly Role[];

/** Who did something: a Slack user with their role, or a part of Earshot itself. */
export type Actor = { kind: 'user'; userId: string; role: Role } | { kind: 'system'; name: string };

/** How an actor is written into the timeline. */
export function actorId(actor: Actor): string {
  return actor.kind === 'user' ? actor.userId : `system:${actor.name}`;
}

export function isOpen(status: TicketStatus): boolean {
  return (OPEN_STATUSES as readonly TicketStatus[]).includes(status);
}
