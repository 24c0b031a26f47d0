import type { Priority } from '../tickets/types.js';

/** First-response and resolution targets for one priority, in minutes. */
export interface SlaTarget {
  firstResponseMinutes: number;
  resolutionMinutes: number;
}

/** Defaults: P1 1 h / 8 h, P2 4 h / 24 h, P3 24 h / 72 h, P4 72 h / 7 d. */
export const DEFAULT_SLA_TARGETS: Readonly<Record<Priority, SlaTarget>> = {
  P1: { firstResponseMinutes: 60, resolutionMinutes: 8 * 60 },
  P2: { firstResponseMinutes: 4 * 60, resolutionMinutes: 24 * 60 },
  P3: { firstResponseMinutes: 24 * 60, resolutionMinutes: 72 * 60 },
  P4: { firstResponseMinutes: 72 * 60, resolutionMinutes: 7 * 24 * 60 },
};

/** Wall-clock due times for a ticket opened at `openedAt` (business hours come with the SLA work). */
export function computeDueTimes(
  priority: Priority,
  openedAt: Date,
  targets: Readonly<Record<Priority, SlaTarget>> = DEFAULT_SLA_TARGETS,
): { firstResponseDueAt: Date; resolutionDueAt: Date } {
  const target = targets[priority];
  return {
    firstResponseDueAt: new Date(openedAt.getTime() + target.firstResponseMinutes * 60_000),
    resolutionDueAt: new Date(openedAt.getTime() + target.resolutionMinutes * 60_000),
  };
}
