import { AppError } from '../errors.js';
import type { TicketStatus } from './types.js';

/**
 * The ticket lifecycle as data: for each action, the statuses it may start from and the status
 * it leads to. `keep` leaves the status as it is (tagging, escalating). Anything not listed is
 * refused with `invalid_transition`, before a single row changes.
 *
 *   new → claimed → waiting (on customer) → resolved → closed
 *   escalation is a tier on any open ticket; resolved and closed reopen when the customer writes again.
 */
export const TRANSITIONS = {
  /** Whether someone else already holds it (`already_claimed`) is the claim's own rule, not the status's. */
  claim: { from: ['new', 'claimed', 'waiting'], to: 'keep-or-claimed' },
  unclaim: { from: ['claimed', 'waiting'], to: 'new' },
  assign: { from: ['new', 'claimed', 'waiting'], to: 'keep-or-claimed' },
  tag: { from: ['new', 'claimed', 'waiting', 'resolved', 'closed'], to: 'keep' },
  untag: { from: ['new', 'claimed', 'waiting', 'resolved', 'closed'], to: 'keep' },
  escalate: { from: ['new', 'claimed', 'waiting'], to: 'keep' },
  deescalate: { from: ['new', 'claimed', 'waiting'], to: 'keep' },
  correct: { from: ['new', 'claimed', 'waiting', 'resolved', 'closed'], to: 'keep' },
  /** An agent's reply: the ticket now waits on the customer. */
  reply: { from: ['new', 'claimed', 'waiting'], to: 'waiting' },
  /** The customer wrote again: waiting → claimed, resolved/closed reopen. */
  customer_message: { from: ['new', 'claimed', 'waiting', 'resolved', 'closed'], to: 'reopen' },
  resolve: { from: ['new', 'claimed', 'waiting'], to: 'resolved' },
  reopen: { from: ['resolved', 'closed'], to: 'reopen' },
  close: { from: ['new', 'claimed', 'waiting', 'resolved'], to: 'closed' },
  mark_spam: { from: ['new', 'claimed', 'waiting'], to: 'closed' },
} as const satisfies Record<
  string,
  { from: readonly TicketStatus[]; to: TicketStatus | 'keep' | 'reopen' | 'keep-or-claimed' }
>;

export type TicketAction = keyof typeof TRANSITIONS;

/** Whether `action` may start from `status`. */
export function canTransition(action: TicketAction, status: TicketStatus): boolean {
  return (TRANSITIONS[action].from as readonly TicketStatus[]).includes(status);
}

/**
 * The status a ticket moves to. A reopened or re-contacted ticket goes back to whoever held it
 * (`claimed`) or to the queue (`new`); a claim or an assignment moves a new ticket to `claimed` and
 * leaves a ticket waiting on the customer waiting.
 */
export function nextStatus(
  action: TicketAction,
  ticket: { status: TicketStatus; assignee: string | null },
): TicketStatus {
  if (!canTransition(action, ticket.status)) {
    throw new AppError('invalid_transition', describeRefusal(action, ticket.status), {
      details: { action, status: ticket.status },
    });
  }
  const to = TRANSITIONS[action].to;
  switch (to) {
    case 'keep':
      return ticket.status;
    case 'keep-or-claimed':
      return ticket.status === 'new' ? 'claimed' : ticket.status;
    case 'reopen':
      if (ticket.status === 'new') return 'new';
      return ticket.assignee ? 'claimed' : 'new';
    default:
      return to;
  }
}

const STATUS_WORDS: Record<TicketStatus, string> = {
  new: 'new',
  claimed: 'claimed',
  waiting: 'waiting on the customer',
  resolved: 'resolved',
  closed: 'closed',
};

function describeRefusal(action: TicketAction, status: TicketStatus): string {
  const verb = action.replace('_', ' ');
  if (status === 'resolved' || status === 'closed') {
    return `This ticket is ${STATUS_WORDS[status]}, so it cannot be changed that way (${verb}). Reopen it first.`;
  }
  return `A ticket that is ${STATUS_WORDS[status]} cannot be changed that way (${verb}).`;
}
