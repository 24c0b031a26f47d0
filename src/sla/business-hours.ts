/**
 * Pure clock arithmetic for SLA targets counted only within business hours, in the policy's time
 * zone (DST included: windows are laid out in local wall time and converted through Intl).
 */

/** Open on `days` (0 = Sunday … 6 = Saturday) from `startMinute` to `endMinute` local time. */
export interface BusinessHours {
  days: number[];
  /** Minutes after local midnight, 0 … 1439. */
  startMinute: number;
  /** Minutes after local midnight, greater than startMinute, at most 1440. */
  endMinute: number;
  /** IANA zone, e.g. `Europe/Berlin`. */
  timeZone: string;
}

/** A span during which the clock stood still; `to` null means it still does. */
export interface Pause {
  from: Date;
  to: Date | null;
}

const DAY_MS = 86_400_000;
/** A clock that runs at most this far ahead is a configuration mistake, not a due time. */
const MAX_DAYS = 3_660;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(instant: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** The zone's offset from UTC at an instant, in ms (Berlin in winter: +3,600,000). */
function offsetAt(instant: number, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The calendar date (and weekday, 0 = Sunday) at an instant in a time zone. */
export function localDateOf(
  instant: Date,
  timeZone: string,
): { year: number; month: number; day: number; weekday: number } {
  const p = localParts(instant.getTime(), timeZone);
  return {
    year: p.year,
    month: p.month,
    day: p.day,
    weekday: new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay(),
  };
}

/** The instant a local wall time names (a time skipped by DST moves forward by the gap). */
export function localToInstant(
  year: number,
  month: number,
  day: number,
  minuteOfDay: number,
  timeZone: string,
): number {
  const wall = Date.UTC(year, month - 1, day) + minuteOfDay * 60_000;
  const first = wall - offsetAt(wall, timeZone);
  const second = wall - offsetAt(first, timeZone);
  return second;
}

interface Window {
  open: number;
  close: number;
}

/** Business windows, in order, from the local day containing `from` onwards. */
function* windowsFrom(hours: BusinessHours, from: number): Generator<Window> {
  const start = localParts(from, hours.timeZone);
  const base = Date.UTC(start.year, start.month - 1, start.day);
  for (let i = 0; i < MAX_DAYS; i++) {
    const date = new Date(base + i * DAY_MS);
    if (!hours.days.includes(date.getUTCDay())) continue;
    const y = date.getUTCFullYear();
    const m = date.getUTCMonth() + 1;
    const d = date.getUTCDate();
    yield {
      open: localToInstant(y, m, d, hours.startMinute, hours.timeZone),
      close: localToInstant(y, m, d, hours.endMinute, hours.timeZone),
    };
  }
  throw new Error('business hours never open; check the SLA policy');
}

/** Milliseconds of business time in [a, b); wall time when there are no business hours. */
export function businessMs(hours: BusinessHours | null, a: Date, b: Date): number {
  const from = a.getTime();
  const to = b.getTime();
  if (to <= from) return 0;
  if (!hours) return to - from;
  let total = 0;
  for (const window of windowsFrom(hours, from)) {
    if (window.open >= to) break;
    const lo = Math.max(window.open, from);
    const hi = Math.min(window.close, to);
    if (hi > lo) total += hi - lo;
  }
  return total;
}

/** The instant at which `ms` of business time have passed since `start`. */
export function addBusinessMs(hours: BusinessHours | null, start: Date, ms: number): Date {
  if (!hours) return new Date(start.getTime() + ms);
  const from = start.getTime();
  let remaining = ms;
  for (const window of windowsFrom(hours, from)) {
    const lo = Math.max(window.open, from);
    if (window.close <= lo) continue;
    const available = window.close - lo;
    // A target of zero is due at the first business moment, not before opening.
    if (remaining <= available) return new Date(lo + remaining);
    remaining -= available;
  }
  throw new Error('business hours never open; check the SLA policy');
}

function sortedPauses(pauses: readonly Pause[]): Pause[] {
  return [...pauses].sort((x, y) => x.from.getTime() - y.from.getTime());
}

/** Running SLA time between `start` and `now`: business time minus the business time spent paused. */
export function activeMs(hours: BusinessHours | null, start: Date, now: Date, pauses: readonly Pause[] = []): number {
  let total = businessMs(hours, start, now);
  for (const pause of sortedPauses(pauses)) {
    const from = new Date(Math.max(pause.from.getTime(), start.getTime()));
    const to = new Date(Math.min((pause.to ?? now).getTime(), now.getTime()));
    total -= businessMs(hours, from, to);
  }
  return Math.max(0, total);
}

/**
 * When a clock started at `start` with `targetMs` runs out, given its pauses so far. Null while the
 * clock stands still (an open pause) and the target has not been reached before it began.
 */
export function dueAt(
  hours: BusinessHours | null,
  start: Date,
  targetMs: number,
  pauses: readonly Pause[] = [],
): Date | null {
  let cursor = start;
  let remaining = targetMs;
  for (const pause of sortedPauses(pauses)) {
    if (pause.from.getTime() < cursor.getTime()) {
      if (pause.to === null) return null;
      if (pause.to.getTime() > cursor.getTime()) cursor = pause.to;
      continue;
    }
    const segment = businessMs(hours, cursor, pause.from);
    if (segment >= remaining) return addBusinessMs(hours, cursor, remaining);
    remaining -= segment;
    if (pause.to === null) return null;
    cursor = pause.to;
  }
  return addBusinessMs(hours, cursor, remaining);
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/**
 * Reads `mon-fri 09:00-17:00 Europe/Berlin` (days as a range, a list `mon,wed,fri`, or `daily`).
 * Returns a message instead of throwing, for the slash command to show.
 */
export function parseBusinessHours(input: string): BusinessHours | { error: string } {
  const words = input.trim().split(/\s+/);
  if (words.length !== 3) return { error: 'Write business hours as `mon-fri 09:00-17:00 Europe/Berlin`.' };
  const [daysText, timeText, timeZone] = words as [string, string, string];
  const days = parseDays(daysText.toLowerCase());
  if (!days)
    return { error: `I could not read the days "${daysText}": use \`mon-fri\`, \`mon,wed,fri\` or \`daily\`.` };
  const times = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(timeText);
  if (!times) return { error: `I could not read the hours "${timeText}": use \`09:00-17:00\`.` };
  const startMinute = Number(times[1]) * 60 + Number(times[2]);
  const endMinute = Number(times[3]) * 60 + Number(times[4]);
  if (Number(times[2]) > 59 || Number(times[4]) > 59 || startMinute >= endMinute || endMinute > 1440) {
    return { error: 'Business hours must open before they close, within one day (e.g. `09:00-17:00`).' };
  }
  if (!isValidTimeZone(timeZone)) return { error: `"${timeZone}" is not a time zone I know (e.g. \`Europe/Berlin\`).` };
  return { days, startMinute, endMinute, timeZone };
}

function parseDays(text: string): number[] | null {
  if (text === 'daily' || text === 'everyday') return [0, 1, 2, 3, 4, 5, 6];
  const index = (name: string) => DAY_NAMES.indexOf(name.slice(0, 3) as (typeof DAY_NAMES)[number]);
  const range = /^([a-z]+)-([a-z]+)$/.exec(text);
  if (range) {
    const a = index(range[1]!);
    const b = index(range[2]!);
    if (a < 0 || b < 0) return null;
    const days: number[] = [];
    for (let d = a; ; d = (d + 1) % 7) {
      days.push(d);
      if (d === b) break;
    }
    return days.sort();
  }
  const list = text.split(',').map(index);
  if (list.some((d) => d < 0)) return null;
  return [...new Set(list)].sort();
}

/** `Mon–Fri 09:00–17:00 (Europe/Berlin)`, for Slack. */
export function describeBusinessHours(hours: BusinessHours | null | undefined): string {
  if (!hours) return 'around the clock';
  const names = hours.days.map((d) => DAY_NAMES[d]!).map((n) => n[0]!.toUpperCase() + n.slice(1));
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  const contiguous = hours.days.every((d, i) => i === 0 || d === hours.days[i - 1]! + 1);
  const days = contiguous && names.length > 2 ? `${names[0]}–${names[names.length - 1]}` : names.join(', ');
  return `${days} ${hhmm(hours.startMinute)}–${hhmm(hours.endMinute)} (${hours.timeZone})`;
}
