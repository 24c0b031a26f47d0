import type { Ticket, TicketStatus } from './types.js';

/**
 * The SLA clock stops while a ticket waits on the customer. Returns the columns to write when a
 * ticket moves from `from` to `to` at `now`: pausing records when, resuming adds the paused time.
 */
export function slaClockPatch(
  ticket: Pick<Ticket, 'slaPausedAt' | 'slaPausedSeconds'>,
  from: TicketStatus,
  to: TicketStatus,
  now: Date,
): Partial<Pick<Ticket, 'slaPausedAt' | 'slaPausedSeconds'>> {
  if (to === 'waiting' && from !== 'waiting' && !ticket.slaPausedAt) return { slaPausedAt: now };
  if (from === 'waiting' && to !== 'waiting' && ticket.slaPausedAt) {
    const paused = Math.max(0, Math.round((now.getTime() - ticket.slaPausedAt.getTime()) / 1000));
    return { slaPausedAt: null, slaPausedSeconds: ticket.slaPausedSeconds + paused };
  }
  return {};
}
