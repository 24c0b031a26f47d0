import { AppError } from '../errors.js';
import { localDateOf, localToInstant } from '../sla/business-hours.js';

export interface SummaryRequest {
  from: Date;
  to: Date;
  /** `Today`, `Last 7 days`, `2026-03-01 – 2026-03-07`. */
  label: string;
  /** A source name, a channel (`#name` or an id) or a tag, resolved against the database later. */
  filterWord: string | null;
  csv: boolean;
}

const DAY = 86_400_000;

/** Midnight at the start of the local day `offset` days from the day containing `instant`. */
export function startOfLocalDay(instant: Date, timeZone: string, offset = 0): Date {
  const d = localDateOf(instant, timeZone);
  const shifted = new Date(Date.UTC(d.year, d.month - 1, d.day + offset));
  return new Date(
    localToInstant(shifted.getUTCFullYear(), shifted.getUTCMonth() + 1, shifted.getUTCDate(), 0, timeZone),
  );
}

function parseDay(text: string, timeZone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) return null;
  return new Date(localToInstant(y, mo, d, 0, timeZone));
}

/**
 * Reads `/earshot summary [today|yesterday|7d|30d|<from>..<to>] [source|#channel|tag] [csv]`. Dates are
 * whole local days in `timeZone`; `<to>` is included.
 */
export function parseSummaryArgs(args: string, now: Date, timeZone: string): SummaryRequest {
  const words = args.trim().split(/\s+/).filter(Boolean);
  let csv = false;
  let period: Omit<SummaryRequest, 'filterWord' | 'csv'> | null = null;
  const rest: string[] = [];
  for (const word of words) {
    const lower = word.toLowerCase();
    if (lower === 'csv') csv = true;
    else if (!period && lower === 'today') period = { from: startOfLocalDay(now, timeZone), to: now, label: 'Today' };
    else if (!period && lower === 'yesterday') {
      period = { from: startOfLocalDay(now, timeZone, -1), to: startOfLocalDay(now, timeZone), label: 'Yesterday' };
    } else if (!period && /^\d{1,3}d$/.test(lower)) {
      const days = Number(lower.slice(0, -1));
      if (days < 1 || days > 366) throw new AppError('invalid_input', 'A period is 1d to 366d.');
      period = {
        from: new Date(now.getTime() - days * DAY),
        to: now,
        label: `Last ${days} day${days === 1 ? '' : 's'}`,
      };
    } else if (!period && word.includes('..')) {
      const [a, b] = word.split('..');
      const from = parseDay(a ?? '', timeZone);
      const last = parseDay(b ?? '', timeZone);
      if (!from || !last || last < from) {
        throw new AppError('invalid_input', 'Write a date range as `2026-03-01..2026-03-07` (both days included).');
      }
      period = { from, to: startOfLocalDay(last, timeZone, 1), label: `${a} – ${b}` };
    } else rest.push(word);
  }
  if (rest.length > 1) {
    throw new AppError(
      'invalid_input',
      'Usage: `/earshot summary [today|yesterday|7d|30d|<from>..<to>] [source|#channel|tag] [csv]`.',
    );
  }
  return {
    ...(period ?? { from: startOfLocalDay(now, timeZone), to: now, label: 'Today' }),
    filterWord: rest[0] ?? null,
    csv,
  };
}
