import type { TicketStatus } from './types.js';

/** The fields of an existing ticket that decide whether a new item belongs to it. */
export interface GroupingCandidate {
  id: number;
  authorId: number;
  conversationId: string | null;
  status: TicketStatus;
  lastCustomerMessageAt: Date;
}

export interface IncomingItem {
  authorId: number;
  conversationId: string | null;
  createdAt: Date;
}

/**
 * Picks the ticket a new item joins, or null to open a new one. Same conversation wins, whatever
 * the ticket's status (a resolved thread reopens); otherwise the same author's newest ticket that is
 * still open or was resolved within the window. A closed ticket is only re-entered through its thread.
 */
export function chooseTicketForItem(
  item: IncomingItem,
  candidates: readonly GroupingCandidate[],
  windowMinutes: number,
): GroupingCandidate | null {
  if (item.conversationId) {
    const thread = newest(candidates.filter((c) => c.conversationId === item.conversationId));
    if (thread) return thread;
  }
  if (windowMinutes <= 0) return null;
  const windowStart = item.createdAt.getTime() - windowMinutes * 60_000;
  const sameAuthor = candidates.filter(
    (c) => c.authorId === item.authorId && c.status !== 'closed' && c.lastCustomerMessageAt.getTime() >= windowStart,
  );
  return newest(sameAuthor);
}

function newest(candidates: readonly GroupingCandidate[]): GroupingCandidate | null {
  let best: GroupingCandidate | null = null;
  for (const candidate of candidates) {
    if (!best || candidate.lastCustomerMessageAt > best.lastCustomerMessageAt) best = candidate;
  }
  return best;
}
