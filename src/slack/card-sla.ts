import type { Database } from '../db/database.js';
import { pausesOf, readClocks } from '../sla/clock.js';
import type { SlaPolicies } from '../sla/policy.js';
import { loadSlaPolicies } from '../sla/settings.js';
import { loadWaitingTransitions } from '../sla/waiting-events.js';
import type { Ticket } from '../tickets/types.js';
import type { SlaClocks } from './blocks/format.js';

/**
 * The SLA clocks as the SLA module reads them, for the card. Around the clock the card's own reading
 * (stored due time plus the paused seconds) is exact, so this answers null and costs nothing more;
 * within business hours a pause moves the due time by the business time it covered, not its wall
 * time, so the clocks are read from the policy and the timeline, as the sweep reads them.
 */
export async function readCardSla(
  db: Database,
  ticket: Ticket,
  now: Date,
  policies?: SlaPolicies,
): Promise<SlaClocks | null> {
  const policy = (policies ?? (await loadSlaPolicies(db)))[ticket.priority];
  const hours = policy.businessHours ?? null;
  if (!hours) return null;
  const paused = ticket.slaPausedSeconds > 0 || ticket.slaPausedAt !== null;
  const events = paused ? await loadWaitingTransitions(db, ticket.id) : [];
  const clocks = readClocks(policy, ticket, pausesOf(ticket, hours, events), now);
  return {
    firstResponse: {
      dueAt: clocks.firstResponse.dueAt,
      leftMs: clocks.firstResponse.targetMs - clocks.firstResponse.elapsedMs,
    },
    resolution: { dueAt: clocks.resolution.dueAt, leftMs: clocks.resolution.targetMs - clocks.resolution.elapsedMs },
  };
}
