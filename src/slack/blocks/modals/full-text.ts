import type { KnownBlock, ModalView } from '@slack/types';
import { VIEWS } from '../../ids.js';
import { safeMrkdwn } from '../../mrkdwn.js';
import { maskPii, piiSpansOf, plural, safeLink } from '../format.js';
import { chunkEscaped, plain, VIEW_LIMITS } from '../view-parts.js';

/** One message of a conversation, customer's or ours. */
export interface ConversationEntry {
  from: 'customer' | 'agent';
  /** `@dana`, or the agent's Slack user id. */
  who: string;
  at: Date;
  text: string;
  url?: string | null;
  /** The message's triage, whose PII spans index into `text`. */
  triage?: unknown;
}

export interface FullTextModalInput {
  ticketId: number;
  entries: readonly ConversationEntry[];
  maskPii: boolean;
}

function heading(entry: ConversationEntry): string {
  const who =
    entry.from === 'agent' ? `<@${entry.who.replace(/[^A-Z0-9]/g, '')}> replied` : `*${safeMrkdwn(entry.who, 80)}*`;
  const when = `<!date^${Math.floor(entry.at.getTime() / 1000)}^{date_short_pretty} {time}|${entry.at.toISOString()}>`;
  const link = safeLink(entry.url, 'original post');
  return [who, when, link].filter(Boolean).join(' · ');
}

/**
 * A read-only modal with the whole conversation, oldest first: each message escaped (PII masked
 * when configured) and split over as many sections as it needs. Past 100 blocks the newest
 * messages are kept and a line says how many earlier ones are left out.
 */
export function buildFullTextModal(input: FullTextModalInput): ModalView {
  const perEntry = input.entries.map((entry): KnownBlock[] => {
    const text =
      input.maskPii && entry.from === 'customer' ? maskPii(entry.text, piiSpansOf(entry.triage)) : entry.text;
    const chunks = chunkEscaped(text || ' ', VIEW_LIMITS.sectionText);
    return [
      { type: 'context', elements: [{ type: 'mrkdwn', text: heading(entry) }] },
      ...chunks.map((chunk): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: chunk } })),
      { type: 'divider' },
    ];
  });
  // Keep the newest messages that fit, leaving one block for the "earlier messages" note.
  const budget = VIEW_LIMITS.blocks - 1;
  const kept: KnownBlock[][] = [];
  let used = 0;
  for (let i = perEntry.length - 1; i >= 0; i -= 1) {
    const blocks = perEntry[i]!;
    if (used + blocks.length > budget) {
      if (kept.length === 0) kept.unshift(blocks.slice(0, budget - 1));
      break;
    }
    kept.unshift(blocks);
    used += blocks.length;
  }
  const omitted = perEntry.length - kept.length;
  const blocks: KnownBlock[] = [];
  if (omitted > 0) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `_${plural(omitted, 'earlier message')} not shown._` }],
    });
  }
  blocks.push(...kept.flat());
  if (blocks.length === 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '_No messages._' } });
  return {
    type: 'modal',
    callback_id: VIEWS.fullText,
    title: plain(`Ticket #${input.ticketId}`, VIEW_LIMITS.title),
    close: plain('Close', VIEW_LIMITS.button),
    blocks: blocks.slice(0, VIEW_LIMITS.blocks),
  };
}
