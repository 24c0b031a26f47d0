import type { Priority } from '../tickets/types.js';
import { addBusinessMs, type BusinessHours } from './business-hours.js';

/** First-response and resolution targets for one priority, in minutes, optionally in business hours. */
export interface SlaTarget {
  firstResponseMinutes: number;
  resolutionMinutes: number;
  /** Count the targets only within these hours; null or absent means around the clock. */
  businessHours?: BusinessHours | null;
}

export type SlaPolicies = Readonly<Record<Priority, SlaTarget>>;

/** Defaults: P1 1 h / 8 h, P2 4 h / 24 h, P3 24 h / 72 h, P4 72 h / 7 d, around the clock. */
export const DEFAULT_SLA_TARGETS: SlaPolicies = {
  P1: { firstResponseMinutes: 60, resolutionMinutes: 8 * 60 },
  P2: { firstResponseMinutes: 4 * 60, resolutionMinutes: 24 * 60 },
  P3: { firstResponseMinutes: 24 * 60, resolutionMinutes: 72 * 60 },
  P4: { firstResponseMinutes: 72 * 60, resolutionMinutes: 7 * 24 * 60 },
};

/** A warning goes out at this share of a target; the breach at 100%. */
export const SLA_WARNING_FRACTION = 0.75;

/**
 * Due times for a ticket opened at `openedAt`, counted in the policy's business hours when it has
 * them. The SLA sweep keeps them current as the clock pauses and resumes.
 */
export function computeDueTimes(
  priority: Priority,
  openedAt: Date,
  targets: SlaPolicies = DEFAULT_SLA_TARGETS,
): { firstResponseDueAt: Date; resolutionDueAt: Date } {
  const target = targets[priority];
  const hours = target.businessHours ?? null;
  return {
    firstResponseDueAt: addBusinessMs(hours, openedAt, target.firstResponseMinutes * 60_000),
    resolutionDueAt: addBusinessMs(hours, openedAt, target.resolutionMinutes * 60_000),
  };
}

/** Reads `90m`, `4h`, `1h30m`, `3d`, `1w` or a bare number of minutes; null when unreadable. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) > 0 ? Number(trimmed) : null;
  const unit: Record<string, number> = { m: 1, min: 1, h: 60, d: 24 * 60, w: 7 * 24 * 60 };
  let total = 0;
  let rest = trimmed;
  while (rest) {
    const match = /^(\d+(?:\.\d+)?)(min|m|h|d|w)/.exec(rest);
    if (!match) return null;
    total += Number(match[1]) * unit[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  const minutes = Math.round(total);
  return minutes > 0 ? minutes : null;
}

/** `1h`, `1h 30m`, `3d`, for Slack. */
export function formatMinutes(minutes: number): string {
  const m = Math.round(minutes);
  if (m < 60) return `${m}m`;
  const days = Math.floor(m / 1440);
  const hours = Math.floor((m % 1440) / 60);
  const mins = m % 60;
  return [days ? `${days}d` : '', hours ? `${hours}h` : '', mins ? `${mins}m` : ''].filter(Boolean).join(' ');
}
