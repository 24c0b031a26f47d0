import type { KnownBlock, SectionBlock } from '@slack/types';
import type { TicketExcerpt } from '../../reports/excerpts.js';
import type { Ticket } from '../../tickets/types.js';
import { ACTIONS } from '../ids.js';
import { safeMrkdwn } from '../mrkdwn.js';
import { formatDuration, maskPii, piiSpansOf, plural } from './format.js';
import { LIMITS } from './limits.js';

const MESSAGE_BLOCKS = LIMITS.messageBlocks;

const PRIORITY_MARK: Record<Ticket['priority'], string> = {
  P1: ':red_circle: P1',
  P2: ':large_orange_circle: P2',
  P3: ':large_yellow_circle: P3',
  P4: ':white_circle: P4',
};

/**
 * How a ticket's SLA stands at `now`: the first response until someone answered ("first reply due in
 * 20m", "overdue by 1h"), then the resolution; null when no target applies. A clock the SLA sweep
 * marked breached says so even if its due time moved.
 */
export function slaNote(
  ticket: Pick<
    Ticket,
    'firstResponseAt' | 'firstResponseDueAt' | 'resolutionDueAt' | 'firstResponseSla' | 'resolutionSla' | 'status'
  >,
  now: Date,
): string | null {
  if (ticket.status === 'resolved' || ticket.status === 'closed') return null;
  const first = !ticket.firstResponseAt;
  const due = first ? ticket.firstResponseDueAt : ticket.resolutionDueAt;
  if (!due) return null;
  const what = first ? 'first reply' : 'resolution';
  const left = due.getTime() - now.getTime();
  if (left < 0) return `${what} overdue by ${formatDuration(-left)}`;
  if ((first ? ticket.firstResponseSla : ticket.resolutionSla) === 'breached') return `${what} target missed`;
  return `${what} due in ${formatDuration(left)}`;
}

/**
 * One line per ticket: id, priority, category, status, who holds it, age, SLA, and who wrote what
 * (escaped and short; a VIP with a star). Customer text only ever enters through `safeMrkdwn`.
 */
export function ticketLine(
  ticket: Ticket,
  excerpt: TicketExcerpt | undefined,
  now: Date,
  options: { maskPii?: boolean } = {},
): string {
  const age = formatDuration(now.getTime() - ticket.createdAt.getTime());
  const holder = ticket.assignee ? `<@${ticket.assignee}>` : '_unclaimed_';
  const sla = slaNote(ticket, now);
  const facts = [
    `*#${ticket.id}*`,
    PRIORITY_MARK[ticket.priority],
    ticket.category.replace('_', ' '),
    ticket.status,
    holder,
    `${age} old`,
    ...(ticket.escalationTier > 0 ? [`tier ${ticket.escalationTier}`] : []),
    ...(sla ? [sla] : []),
  ].join(' · ');
  if (!excerpt) return facts;
  const who = excerpt.handle ? `@${excerpt.handle}` : (excerpt.displayName ?? 'someone');
  const text = options.maskPii ? maskPii(excerpt.text, piiSpansOf(excerpt.triage)) : excerpt.text;
  return `${facts}\n${excerpt.vip ? ':star: ' : ''}${safeMrkdwn(who, 60)}: ${safeMrkdwn(text.replace(/\s+/g, ' '), 160)}`;
}

export interface TicketListOptions {
  now: Date;
  /** Adds an "Open" button per ticket (App Home); plain lines otherwise. */
  openButton?: boolean;
  /** EARSHOT_MASK_PII: hide e-mails, phone, order and card numbers in excerpts. */
  maskPii?: boolean;
}

/** A section per ticket, for `/earshot queue|mine|find` and App Home. */
export function buildTicketList(
  tickets: readonly Ticket[],
  excerpts: ReadonlyMap<number, TicketExcerpt>,
  options: TicketListOptions,
): KnownBlock[] {
  return tickets.map((ticket): SectionBlock => {
    const section: SectionBlock = {
      type: 'section',
      text: { type: 'mrkdwn', text: ticketLine(ticket, excerpts.get(ticket.id), options.now, options) },
    };
    if (options.openButton) {
      section.accessory = {
        type: 'button',
        action_id: ACTIONS.homeOpenTicket,
        text: { type: 'plain_text', text: 'Open' },
        value: String(ticket.id),
      };
    }
    return section;
  });
}

/** A titled ticket list as a message (≤ 50 blocks): the answer to `/earshot queue|mine|find`. */
export function buildTicketListMessage(
  title: string,
  tickets: readonly Ticket[],
  excerpts: ReadonlyMap<number, TicketExcerpt>,
  options: TicketListOptions & {
    empty: string;
    /** The list's full length when `tickets` holds only its first: the heading says how many are shown. */
    total?: number;
  },
): { text: string; blocks: KnownBlock[] } {
  const shown = Math.min(tickets.length, MESSAGE_BLOCKS - 1);
  const total = Math.max(options.total ?? tickets.length, tickets.length);
  const count = total > shown ? ` · the first ${shown} of ${total}` : '';
  const heading: KnownBlock = { type: 'section', text: { type: 'mrkdwn', text: `*${title}*${count}` } };
  if (tickets.length === 0) {
    return {
      text: `${title}: ${options.empty}`,
      blocks: [heading, { type: 'context', elements: [{ type: 'mrkdwn', text: options.empty }] }],
    };
  }
  const lines = buildTicketList(tickets.slice(0, MESSAGE_BLOCKS - 1), excerpts, options);
  return { text: `${title}: ${plural(total, 'ticket')}`, blocks: [heading, ...lines] };
}
