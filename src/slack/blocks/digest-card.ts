import type { KnownBlock, View } from '@slack/types';
import type { Ticket } from '../../tickets/types.js';
import { ACTIONS, VIEWS } from '../ids.js';
import { safeMrkdwn } from '../mrkdwn.js';
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

/** The digest button's value: the folded ticket ids, as many as fit in a button value. */
export function encodeDigestValue(ticketIds: readonly number[]): string {
  const ids: number[] = [];
  for (const id of ticketIds) {
    if (JSON.stringify({ t: [...ids, id] }).length > LIMITS.buttonValue) break;
    ids.push(id);
  }
  return JSON.stringify({ t: ids });
}

export function decodeDigestValue(value: string | undefined): number[] {
  try {
    const parsed = JSON.parse(value ?? '') as { t?: unknown };
    return Array.isArray(parsed.t) ? parsed.t.filter((id): id is number => Number.isSafeInteger(id) && id > 0) : [];
  } catch {
    return [];
  }
}

/**
 * One card standing in for a burst: "124 new items in the last 5 minutes: 80 complaints about
 * checkout, …" and a button that lists them. Topics come from triage, so they are escaped.
 */
export function buildDigestCard(input: { tickets: readonly DigestTicket[]; windowMinutes: number }): {
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
          value: encodeDigestValue(tickets.map((t) => t.id)),
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
}

/** The modal behind the digest's button: the folded tickets, most urgent first, escaped and short. */
export function buildDigestModal(entries: readonly DigestEntry[], requested: number): View {
  const shown = [...entries].sort((a, b) => a.priority.localeCompare(b.priority) || a.id - b.id).slice(0, 90);
  const blocks: KnownBlock[] = shown.map((entry) => ({
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: `*#${entry.id}* · ${entry.priority} ${entry.category.replace('_', ' ')} · ${entry.status}${
        entry.handle ? ` · @${safeMrkdwn(entry.handle, 60)}` : ''
      }\n${safeMrkdwn(entry.text.replace(/\s+/g, ' '), 200).replace(/^/gm, '>')}`,
    },
  }));
  const more = Math.max(0, requested - shown.length);
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `${more > 0 ? `${more} more not shown. ` : ''}\`/earshot ticket <id>\` shows one; working it posts its card.`,
      },
    ],
  });
  return {
    type: 'modal',
    callback_id: VIEWS.digest,
    title: { type: 'plain_text', text: 'Burst digest' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: enforceBlockLimits(blocks, LIMITS.viewBlocks),
  };
}
