import type { Ticket } from '../../tickets/types.js';
import type { PiiSpan } from '../../triage/types.js';
import { escapeMrkdwn, safeMrkdwn } from '../mrkdwn.js';

/** `2d 4h`, `3h 05m`, `12m`, `<1m`: precise enough for a glance at a card. */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  if (minutes < 1) return '<1m';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return `${hours}h ${String(mins).padStart(2, '0')}m`;
  return `${mins}m`;
}

/** 950, 1.2k, 120k, 3.4M. */
export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${trim(n / 1000)}k`;
  return `${trim(n / 1_000_000)}M`;
}

function trim(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
}

export type SlaPhase = 'first_response' | 'resolution' | 'done' | 'none';

export interface SlaStatus {
  phase: SlaPhase;
  /** Milliseconds left (negative when overdue); null when no target applies. */
  remainingMs: number | null;
  paused: boolean;
  /** One mrkdwn line for the card. */
  line: string;
}

/**
 * The SLA clock as a card shows it: the first-response target until someone answered, then the
 * resolution target. Time spent waiting on the customer does not count (paused seconds so far,
 * plus the current pause), so the due time moves later by exactly that much.
 */
export function slaStatus(
  ticket: Pick<
    Ticket,
    | 'status'
    | 'firstResponseAt'
    | 'firstResponseDueAt'
    | 'resolutionDueAt'
    | 'slaPausedAt'
    | 'slaPausedSeconds'
    | 'resolvedAt'
  >,
  now: Date,
): SlaStatus {
  if (ticket.status === 'resolved' || ticket.status === 'closed') {
    return { phase: 'done', remainingMs: null, paused: false, line: ':white_check_mark: Done' };
  }
  const phase: SlaPhase = ticket.firstResponseAt ? 'resolution' : 'first_response';
  const due = phase === 'first_response' ? ticket.firstResponseDueAt : ticket.resolutionDueAt;
  if (!due) return { phase: 'none', remainingMs: null, paused: false, line: 'No target' };
  const pausedNow = ticket.slaPausedAt ? Math.max(0, now.getTime() - ticket.slaPausedAt.getTime()) : 0;
  const effectiveDue = due.getTime() + ticket.slaPausedSeconds * 1000 + pausedNow;
  const remainingMs = effectiveDue - now.getTime();
  const what = phase === 'first_response' ? 'first response' : 'resolution';
  const paused = ticket.slaPausedAt !== null;
  let line: string;
  if (paused)
    line = `:double_vertical_bar: Paused, waiting on the customer (${formatDuration(remainingMs)} left for ${what})`;
  else if (remainingMs < 0) line = `:rotating_light: ${what} overdue by ${formatDuration(remainingMs)}`;
  else if (remainingMs < 60 * 60_000) line = `:warning: ${formatDuration(remainingMs)} left for ${what}`;
  else line = `:hourglass_flowing_sand: ${formatDuration(remainingMs)} left for ${what}`;
  return { phase, remainingMs, paused, line };
}

const MASK_LABEL: Record<PiiSpan['kind'], string> = {
  email: '[email]',
  phone: '[phone]',
  order: '[order no.]',
  card: '[card no.]',
};

// A safety net for text triage did not mark: e-mail addresses and card-like digit runs.
// The lookbehind starts a match only at the start of a run, keeping this linear on hostile 40k-character text.
const EMAIL = /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]{1,64}@[\p{L}\p{N}.-]{1,255}\.\p{L}{2,}/gu;
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;

/** Replaces PII spans (and e-mail addresses and card numbers triage missed) with labels. */
export function maskPii(text: string, spans: readonly PiiSpan[] = []): string {
  const valid = spans
    .filter((s) => Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.end > s.start)
    .sort((a, b) => a.start - b.start);
  let out = '';
  let cursor = 0;
  for (const span of valid) {
    if (span.start < cursor || span.start >= text.length) continue;
    out += text.slice(cursor, span.start) + (MASK_LABEL[span.kind] ?? '[hidden]');
    cursor = Math.min(span.end, text.length);
  }
  out += text.slice(cursor);
  return out.replace(EMAIL, MASK_LABEL.email).replace(CARD, MASK_LABEL.card);
}

/** Reads PII spans from a triage JSON object, ignoring anything malformed. */
export function piiSpansOf(triage: unknown): PiiSpan[] {
  const pii = (triage as { pii?: unknown } | null | undefined)?.pii;
  if (!Array.isArray(pii)) return [];
  return pii.filter(
    (s): s is PiiSpan =>
      typeof s === 'object' &&
      s !== null &&
      typeof (s as PiiSpan).start === 'number' &&
      typeof (s as PiiSpan).end === 'number' &&
      typeof (s as PiiSpan).kind === 'string',
  );
}

const SLACK_USER = /^[UW][A-Z0-9]+$/;

/** A timeline actor (`U123`, `system:ingest`) as mrkdwn: a mention for people, a name for Earshot. */
export function mentionActor(actor: string): string {
  if (SLACK_USER.test(actor)) return `<@${actor}>`;
  if (actor.startsWith('system:')) return 'Earshot';
  return escapeMrkdwn(actor);
}

/** A Slack user id as a mention, or the escaped text when it is not one. */
export function mentionUser(userId: string | null | undefined): string {
  if (!userId) return 'nobody';
  return SLACK_USER.test(userId) ? `<@${userId}>` : safeMrkdwn(userId, 80);
}

/**
 * A mrkdwn link to an http(s) URL, or null. The URL cannot break out of `<url|label>`: `|`, `<`,
 * `>` and spaces are percent-encoded; the label is escaped.
 */
export function safeLink(url: string | null | undefined, label: string): string | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  const href = parsed.href.replace(/[|<> ]/g, (c) => encodeURIComponent(c)).replace(/&/g, '&amp;');
  if (href.length > 2000) return null;
  return `<${href}|${escapeMrkdwn(label)}>`;
}
