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

/** `1 source`, `2 sources`: a count with its noun, singular for one. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Counts on cards read as in the priority reasons beside them. */
export { formatCount } from '../../triage/priority.js';

export type SlaPhase = 'first_response' | 'resolution' | 'done' | 'none';

export interface SlaStatus {
  phase: SlaPhase;
  /** The stored state of the running clock (the SLA sweep moves it: warning at 75%, breached at 100%). */
  state: Ticket['firstResponseSla'] | null;
  /** Milliseconds left (negative when overdue); null when no target applies. */
  remainingMs: number | null;
  paused: boolean;
  /** One mrkdwn line for the card. */
  line: string;
}

/** One clock as the SLA module reads it: its due time (null while paused) and the target time still left. */
export interface SlaClockView {
  dueAt: Date | null;
  leftMs: number;
}

/** Both clocks, read with the policy's business hours and the pauses (see src/slack/card-sla.ts). */
export interface SlaClocks {
  firstResponse: SlaClockView;
  resolution: SlaClockView;
}

type SlaTicket = Pick<
  Ticket,
  | 'status'
  | 'firstResponseAt'
  | 'firstResponseDueAt'
  | 'resolutionDueAt'
  | 'slaPausedAt'
  | 'slaPausedSeconds'
  | 'resolvedAt'
  | 'firstResponseSla'
  | 'resolutionSla'
>;

/**
 * The SLA clock as a card shows it: the first-response target until someone answered, then the
 * resolution target. The badge is the ticket's stored SLA state (the sweep's warning at 75% of the
 * target and breach at 100%), and a due time already past; the time left comes from `clocks` when
 * the SLA module read them (business hours), else from the stored due time plus the paused time,
 * which is exact around the clock.
 */
export function slaStatus(ticket: SlaTicket, now: Date, clocks?: SlaClocks | null): SlaStatus {
  if (ticket.status === 'resolved' || ticket.status === 'closed') {
    return { phase: 'done', state: null, remainingMs: null, paused: false, line: ':white_check_mark: Done' };
  }
  const phase: SlaPhase = ticket.firstResponseAt ? 'resolution' : 'first_response';
  const due = phase === 'first_response' ? ticket.firstResponseDueAt : ticket.resolutionDueAt;
  if (!due) return { phase: 'none', state: null, remainingMs: null, paused: false, line: 'No target' };
  const state = phase === 'first_response' ? ticket.firstResponseSla : ticket.resolutionSla;
  const paused = ticket.slaPausedAt !== null;
  let remainingMs: number;
  const clock = clocks ? (phase === 'first_response' ? clocks.firstResponse : clocks.resolution) : null;
  if (clock) {
    remainingMs = clock.dueAt ? clock.dueAt.getTime() - now.getTime() : clock.leftMs;
  } else {
    const pausedNow = ticket.slaPausedAt ? Math.max(0, now.getTime() - ticket.slaPausedAt.getTime()) : 0;
    remainingMs = due.getTime() + ticket.slaPausedSeconds * 1000 + pausedNow - now.getTime();
  }
  const what = phase === 'first_response' ? 'first response' : 'resolution';
  const missed = state === 'breached' || remainingMs < 0;
  const badge = missed
    ? ':rotating_light:'
    : state === 'warning'
      ? ':warning:'
      : paused
        ? ':double_vertical_bar:'
        : ':hourglass_flowing_sand:';
  let words: string;
  if (remainingMs < 0) words = `${what} overdue by ${formatDuration(remainingMs)}`;
  else if (state === 'breached') words = `${what} target missed`;
  else words = `${formatDuration(remainingMs)} left for ${what}`;
  if (paused) words = `Paused, waiting on the customer (${words})`;
  return { phase, state, remainingMs, paused, line: `${badge} ${words}` };
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

/**
 * A link to the customer's original post whose label names the host it leads to: webhook senders
 * supply the URL, so the label must not let `https://evil.example` pass as the post.
 */
export function originalPostLink(url: string | null | undefined, label = 'Open the original post'): string | null {
  if (!url) return null;
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return null;
  }
  return safeLink(url, host ? `${label} on ${host.slice(0, 100)}` : label);
}
