import { pgEnum } from 'drizzle-orm/pg-core';

export const sourceKind = pgEnum('source_kind', ['x', 'webhook']);
export const ticketStatus = pgEnum('ticket_status', ['new', 'claimed', 'waiting', 'resolved', 'closed']);
export const ticketPriority = pgEnum('ticket_priority', ['P1', 'P2', 'P3', 'P4']);
export const ticketCategory = pgEnum('ticket_category', [
  'question',
  'complaint',
  'bug_report',
  'suggestion',
  'praise',
  'other',
]);
export const sentimentLabel = pgEnum('sentiment_label', ['negative', 'neutral', 'positive']);
export const agentRole = pgEnum('agent_role', ['admin', 'lead', 'agent', 'viewer']);
export const deliveryStatus = pgEnum('delivery_status', ['pending', 'done', 'failed']);
export const slaState = pgEnum('sla_state', ['ok', 'warning', 'breached', 'met']);
