import type { Button, KnownBlock, View } from '@slack/types';
import type { Ticket } from '../../tickets/types.js';
import { ACTIONS, BLOCK_IDS, VIEWS } from '../ids.js';
import { safeMrkdwn } from '../mrkdwn.js';
import { maskPii, piiSpansOf } from './format.js';
import { enforceBlockLimits, LIMITS } from './limits.js';

export type DigestTicket = Pick<Ticket, 'id' | 'category' | 'priority' | 'topics'>;

const CATEGORY_PLURAL: Record<Ticket['category'], [string, string]> = {
  question: ['question', 'questions'],
  complaint: ['complaint', 'complaints'],
  bug_report: ['bug report', 'bug reports'],
  suggestion: ['suggestion', 'suggestions'],
  praise: ['praise', 'praise'],
  other: ['other item', 'other items'],
};

function countBy<T>(values: readonly T[]): [T, number][] {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

/** Tickets the digest modal lists per page. */
export const DIGEST_PAGE_SIZE = 90;

/** What the digest's buttons carry: the digest (its ticket ids are stored with it) and the page. */
export interface DigestRef {
  digestId: number;
  offset: number;
}

/** The digest card's and the modal's paging buttons' value: `{"d":12,"o":90}`. */
export function encodeDigestValue(ref: DigestRef): string {
  return JSON.stringify({ d: ref.digestId, o: ref.offset });
}

/** Reads a digest button's value; null when it is not one. */
export function decodeDigestValue(value: string | undefined): DigestRef | null {
  try {
    const parsed = JSON.parse(value ?? '') as { d?: unknown; o?: unknown };
    if (!Number.isSafeInteger(parsed.d) || (parsed.d as number) <= 0) return null;
    const offset = Number.isSafeInteger(parsed.o) && (parsed.o as number) >= 0 ? (parsed.o as number) : 0;
    return { digestId: parsed.d as number, offset };
  } catch {
    return null;
  }
}

/**
 * One card standing in for a burst: "124 new items in the last 5 minutes: 80 complaints about
 * checkout, …" and a button that lists them. Topics come from triage, so they are escaped.
 */
export function buildDigestCard(input: {
  /** The digest's id: its outbox row, which stores the folded ticket ids for the modal. */
  digestId: number;
  tickets: readonly DigestTicket[];
  windowMinutes: number;
}): {
  text: string;
  blocks: KnownBlock[];
} {
  const { tickets, windowMinutes } = input;
  const byCategory = countBy(tickets.map((t) => t.category)).map(([category, n]) => {
    const topic = countBy(tickets.filter((t) => t.category === category).flatMap((t) => t.topics.slice(0, 3)))[0];
    const about = topic && topic[1] * 2 >= n ? ` about ${safeMrkdwn(topic[0], 60)}` : '';
    return `${n} ${CATEGORY_PLURAL[category][n === 1 ? 0 : 1]}${about}`;
  });
  const topics = countBy(tickets.flatMap((t) => t.topics.slice(0, 3)))
    .slice(0, 5)
    .map(([topic, n]) => `${safeMrkdwn(topic, 60)} (${n})`);
  const priorities = countBy(tickets.map((t) => t.priority))
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([p, n]) => `${p}: ${n}`);
  const headline = `${tickets.length} new items in the last ${windowMinutes} minutes: ${byCategory.join(', ')}`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `:ocean: *${headline}*` } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: [
            topics.length ? `Most mentioned: ${topics.join(', ')}` : null,
            `Priorities: ${priorities.join(', ')}`,
            'Each is a ticket: its card is posted as soon as anyone works it. P1 and P2 items still get their own cards.',
          ]
            .filter(Boolean)
            .join('\n'),
        },
      ],
    },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ACTIONS.openDigest,
          text: { type: 'plain_text', text: `Open the ${tickets.length} items` },
          value: encodeDigestValue({ digestId: input.digestId, offset: 0 }),
        },
      ],
    },
  ];
  return { text: headline.slice(0, LIMITS.fallbackText), blocks: enforceBlockLimits(blocks) };
}

/** One folded ticket as the digest modal lists it. */
export interface DigestEntry {
  id: number;
  priority: Ticket['priority'];
  category: Ticket['category'];
  status: Ticket['status'];
  handle: string | null;
  text: string;
  /** The first message's triage, whose PII spans index into `text`. */
  triage?: unknown;
}

export interface DigestModalInput {
  digestId: number;
  /** This page's tickets, most urgent first (the query sorts and pages). */
  entries: readonly DigestEntry[];
  /** How many tickets the digest stands for. */
  total: number;
  offset: number;
  /** EARSHOT_MASK_PII: hide e-mails, phone, order and card numbers in the excerpts. */
  maskPii: boolean;
}

/**
 * The modal behind the digest's button: one page of the folded tickets, most urgent first, escaped
 * and short, with Previous/Next buttons that page through all of them.
 */
export function buildDigestModal(input: DigestModalInput): View {
  const { entries, total, offset } = input;
  const blocks: KnownBlock[] = entries.slice(0, DIGEST_PAGE_SIZE).map((entry) => {
    const text = input.maskPii ? maskPii(entry.text, piiSpansOf(entry.triage)) : entry.text;
    return {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*#${entry.id}* · ${entry.priority} ${entry.category.replace('_', ' ')} · ${entry.status}${
          entry.handle ? ` · @${safeMrkdwn(entry.handle, 60)}` : ''
        }\n${safeMrkdwn(text.replace(/\s+/g, ' '), 200).replace(/^/gm, '>')}`,
      },
    };
  });
  const shownTo = offset + Math.min(entries.length, DIGEST_PAGE_SIZE);
  const range = total === 0 ? 'No items.' : `Items ${Math.min(offset + 1, total)}–${shownTo} of ${total}.`;
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `${range} \`/earshot ticket <id>\` shows one; working it posts its card.` }],
  });
  const paging: Button[] = [];
  if (offset > 0) {
    paging.push({
      type: 'button',
      action_id: ACTIONS.digestPage,
      text: { type: 'plain_text', text: `Previous ${DIGEST_PAGE_SIZE}` },
      value: encodeDigestValue({ digestId: input.digestId, offset: Math.max(0, offset - DIGEST_PAGE_SIZE) }),
    });
  }
  if (shownTo < total) {
    paging.push({
      type: 'button',
      action_id: ACTIONS.digestPage,
      text: { type: 'plain_text', text: `Next ${Math.min(DIGEST_PAGE_SIZE, total - shownTo)}` },
      value: encodeDigestValue({ digestId: input.digestId, offset: shownTo }),
    });
  }
  if (paging.length > 0) blocks.push({ type: 'actions', block_id: BLOCK_IDS.digestPaging, elements: paging });
  return {
    type: 'modal',
    callback_id: VIEWS.digest,
    title: { type: 'plain_text', text: 'Burst digest' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: enforceBlockLimits(blocks, LIMITS.viewBlocks),
  };
}
