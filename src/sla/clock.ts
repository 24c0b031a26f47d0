import type { Ticket, TicketEvent } from '../tickets/types.js';
import { activeMs, type BusinessHours, dueAt, type Pause } from './business-hours.js';
import { SLA_WARNING_FRACTION, type SlaTarget } from './policy.js';

export type SlaState = Ticket['firstResponseSla'];
export type SlaClockName = 'first_response' | 'resolution';

/** Where one SLA clock stands. */
export interface ClockReading {
  clock: SlaClockName;
  targetMs: number;
  /** Running time so far (or until the clock stopped: first response sent, ticket resolved). */
  elapsedMs: number;
  /** elapsed / target. */
  fraction: number;
  /** When the target runs out; null while the clock is paused. */
  dueAt: Date | null;
  /** When the clock stopped for good, if it has. */
  stoppedAt: Date | null;
}

type ClockTicket = Pick<Ticket, 'createdAt' | 'firstResponseAt' | 'resolvedAt' | 'slaPausedAt' | 'slaPausedSeconds'>;

/**
 * Reads both clocks of a ticket. The first-response clock never pauses (a ticket only waits on the
 * customer after a reply); the resolution clock stands still during `pauses`.
 */
export function readClocks(
  target: SlaTarget,
  ticket: ClockTicket,
  pauses: readonly Pause[],
  now: Date,
): { firstResponse: ClockReading; resolution: ClockReading } {
  const hours = target.businessHours ?? null;
  return {
    firstResponse: reading(
      'first_response',
      hours,
      ticket.createdAt,
      target.firstResponseMinutes,
      [],
      ticket.firstResponseAt,
      now,
    ),
    resolution: reading(
      'resolution',
      hours,
      ticket.createdAt,
      target.resolutionMinutes,
      pauses,
      ticket.resolvedAt,
      now,
    ),
  };
}

function reading(
  clock: SlaClockName,
  hours: BusinessHours | null,
  start: Date,
  targetMinutes: number,
  pauses: readonly Pause[],
  stoppedAt: Date | null,
  now: Date,
): ClockReading {
  const targetMs = targetMinutes * 60_000;
  const end = stoppedAt && stoppedAt < now ? stoppedAt : now;
  const elapsedMs = activeMs(hours, start, end, pauses);
  return {
    clock,
    targetMs,
    elapsedMs,
    fraction: elapsedMs / targetMs,
    dueAt: dueAt(hours, start, targetMs, pauses),
    stoppedAt,
  };
}

/**
 * The state a clock moves to, or null when it stays. `warning` at 75%, `breached` at 100%, `met` when
 * the clock stopped in time; a breach is final. Each state is entered once, which is what makes each
 * alert fire once.
 */
export function nextSlaState(current: SlaState, reading: ClockReading): SlaState | null {
  if (current === 'breached' || current === 'met') return null;
  if (reading.stoppedAt) return reading.fraction > 1 ? 'breached' : 'met';
  if (reading.fraction >= 1) return 'breached';
  if (reading.fraction >= SLA_WARNING_FRACTION && current === 'ok') return 'warning';
  return null;
}

/**
 * The spans a ticket waited on the customer. Around the clock, the recorded total is exact and is
 * laid out as one span at the start; within business hours the spans come from the timeline's status
 * changes (into and out of `waiting`), because where a pause fell decides how much business time it covered.
 */
export function pausesOf(
  ticket: Pick<Ticket, 'createdAt' | 'slaPausedAt' | 'slaPausedSeconds'>,
  hours: BusinessHours | null,
  events: readonly Pick<TicketEvent, 'createdAt' | 'before' | 'after'>[] = [],
): Pause[] {
  const pauses: Pause[] = [];
  if (!hours) {
    if (ticket.slaPausedSeconds > 0) {
      pauses.push({
        from: ticket.createdAt,
        to: new Date(ticket.createdAt.getTime() + ticket.slaPausedSeconds * 1000),
      });
    }
  } else {
    let open: Date | null = null;
    for (const event of [...events].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())) {
      const before = event.before?.status;
      const after = event.after?.status;
      if (after === 'waiting' && before !== 'waiting') open ??= event.createdAt;
      else if (before === 'waiting' && after !== undefined && after !== 'waiting' && open) {
        pauses.push({ from: open, to: event.createdAt });
        open = null;
      }
    }
    if (open && !ticket.slaPausedAt) open = null;
  }
  if (ticket.slaPausedAt) pauses.push({ from: ticket.slaPausedAt, to: null });
  return pauses;
}
