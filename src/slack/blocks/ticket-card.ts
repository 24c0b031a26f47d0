import type { ActionsBlock, Button, KnownBlock, PlainTextOption } from '@slack/types';
import type { TicketView } from '../../tickets/queries.js';
import type { Item, Ticket } from '../../tickets/types.js';
import { ACTIONS, BLOCK_IDS, OVERFLOW_OPTIONS } from '../ids.js';
import { safeMrkdwn, truncate } from '../mrkdwn.js';
import {
  formatCount,
  maskPii,
  mentionUser,
  originalPostLink,
  piiSpansOf,
  type SlaClocks,
  slaStatus,
} from './format.js';
import { enforceBlockLimits, LIMITS } from './limits.js';

export interface TicketCardOptions {
  now: Date;
  /** EARSHOT_MASK_PII: hide e-mail, phone, order and card numbers on the card. */
  maskPii: boolean;
  /** Characters of the original post shown before "Full text" takes over. */
  textLimit?: number;
  /** Characters of the latest customer message shown. */
  latestLimit?: number;
  /** The ticket's latest reply to the customer, if any: the card shows how its delivery went. */
  latestReply?: ReplySummary | null;
  /** The SLA clocks as the SLA module reads them (business hours); without them the stored due times are used. */
  slaClocks?: SlaClocks | null;
}

/** What the card shows of a reply: who sent it and whether it reached the customer. */
export interface ReplySummary {
  id: number;
  sentBy: string;
  status: 'pending' | 'done' | 'failed';
  lastError: string | null;
  parts: number;
}

export interface TicketCard {
  /** The notification fallback (mrkdwn, escaped like the blocks). */
  text: string;
  blocks: KnownBlock[];
}

const CATEGORY_LABEL: Record<Ticket['category'], string> = {
  question: 'Question',
  complaint: 'Complaint',
  bug_report: 'Bug report',
  suggestion: 'Suggestion',
  praise: 'Praise',
  other: 'Other',
};

const SENTIMENT_LABEL: Record<Ticket['sentiment'], string> = {
  negative: ':slightly_frowning_face: Negative',
  neutral: ':neutral_face: Neutral',
  positive: ':slightly_smiling_face: Positive',
};

const STATUS_LABEL: Record<Ticket['status'], string> = {
  new: ':new: New',
  claimed: ':eyes: Claimed',
  waiting: ':hourglass: Waiting on the customer',
  resolved: ':white_check_mark: Resolved',
  closed: ':lock: Closed',
};

const PRIORITY_EMOJI: Record<Ticket['priority'], string> = {
  P1: ':red_circle:',
  P2: ':large_orange_circle:',
  P3: ':large_yellow_circle:',
  P4: ':white_circle:',
};

/** The customer's text as the card may show it: PII masked when configured, from that item's own triage. */
export function displayText(item: Item, ticket: Ticket, mask: boolean, isFirst: boolean): string {
  if (!mask) return item.text;
  const spans = piiSpansOf(item.triage);
  return maskPii(item.text, spans.length > 0 || !isFirst ? spans : piiSpansOf(ticket.triage));
}

function quote(text: string, max: number): { mrkdwn: string; truncated: boolean } {
  // Truncate, then escape (safeMrkdwn), then prefix each line: the quote marker is ours, not the customer's.
  const body = safeMrkdwn(text, max);
  const truncated = Array.from(text).length > max || body.endsWith('…');
  return { mrkdwn: body.replace(/^/gm, '>'), truncated };
}

function authorLine(view: TicketView): string {
  const { author, source } = view;
  const parts: string[] = [];
  parts.push(source.kind === 'x' ? '*X*' : `*${safeMrkdwn(source.name, 60)}*`);
  const name = author.displayName ? `*${safeMrkdwn(author.displayName, 80)}*` : null;
  const handle = author.handle ? `@${safeMrkdwn(author.handle, 60)}` : null;
  parts.push([name, handle].filter(Boolean).join(' ') || safeMrkdwn(author.externalId, 60));
  if (author.followerCount > 0) parts.push(`${formatCount(author.followerCount)} followers`);
  if (author.verified) parts.push(':ballot_box_with_check: verified');
  if (author.vip) parts.push(':star: VIP');
  return parts.join('  ·  ');
}

function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: truncate(text, LIMITS.buttonText), emoji: true },
    action_id: actionId,
    value,
    ...(style ? { style } : {}),
  };
}

function option(text: string, value: string): PlainTextOption {
  return { text: { type: 'plain_text', text: truncate(text, LIMITS.optionText), emoji: true }, value };
}

/** Buttons follow the lifecycle: Claim or Unclaim, Resolve or Reopen; closed tickets only reopen. */
function actionsBlock(ticket: Ticket, reply: ReplySummary | null | undefined): ActionsBlock {
  const id = String(ticket.id);
  const open = ticket.status === 'new' || ticket.status === 'claimed' || ticket.status === 'waiting';
  const elements: ActionsBlock['elements'] = [];
  if (open) {
    elements.push(
      ticket.assignee ? button('Unclaim', ACTIONS.unclaim, id) : button('Claim', ACTIONS.claim, id, 'primary'),
    );
    elements.push(button('Reply', ACTIONS.reply, id));
    elements.push(button('Tag', ACTIONS.tag, id));
    elements.push(button('Escalate', ACTIONS.escalate, id));
    elements.push(button('Resolve', ACTIONS.resolve, id));
    if (reply?.status === 'failed')
      elements.push(button('Retry reply', ACTIONS.retryReply, String(reply.id), 'danger'));
  } else {
    elements.push(button('Reopen', ACTIONS.reopen, id));
    elements.push(button('Tag', ACTIONS.tag, id));
  }
  // An overflow menu holds at most five options, so it offers what the ticket's status allows:
  // open tickets resolve with the button, so Close is offered once resolved.
  const options: PlainTextOption[] = [];
  if (open) options.push(option('Assign to…', OVERFLOW_OPTIONS.assign));
  if (open) options.push(option('Mark as spam', OVERFLOW_OPTIONS.spam));
  options.push(option('Copy link', OVERFLOW_OPTIONS.copyLink));
  options.push(option('Correct triage', OVERFLOW_OPTIONS.correct));
  options.push(option('Full text', OVERFLOW_OPTIONS.fullText));
  if (ticket.status === 'resolved') options.push(option('Close', OVERFLOW_OPTIONS.close));
  elements.push({ type: 'overflow', action_id: ACTIONS.overflow, options: options.slice(0, LIMITS.overflowOptions) });
  return { type: 'actions', block_id: ticketActionsBlockId(ticket.id), elements };
}

/** The card's actions block id carries the ticket id, so the overflow menu (whose values are fixed) finds its ticket. */
export function ticketActionsBlockId(ticketId: number): string {
  return `${TICKET_ACTIONS_BLOCK_PREFIX}${ticketId}`;
}

export const TICKET_ACTIONS_BLOCK_PREFIX = BLOCK_IDS.ticketActionsPrefix;

/** The ticket id in a card's actions block id, or null. */
export function ticketIdFromBlockId(blockId: string | undefined): number | null {
  if (!blockId?.startsWith(TICKET_ACTIONS_BLOCK_PREFIX)) return null;
  const id = Number(blockId.slice(TICKET_ACTIONS_BLOCK_PREFIX.length));
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

function fields(view: TicketView, now: Date, clocks: SlaClocks | null | undefined): { type: 'mrkdwn'; text: string }[] {
  const { ticket } = view;
  const reasons = ticket.priorityReasons.length
    ? `: ${safeMrkdwn(ticket.priorityReasons.slice(0, 8).join(', '), 400)}`
    : '';
  const escalation =
    ticket.escalationTier > 0
      ? `:arrow_double_up: Tier ${ticket.escalationTier}${ticket.escalationReason ? `: ${safeMrkdwn(ticket.escalationReason, 500)}` : ''}`
      : 'None';
  const tags = ticket.tags.length
    ? ticket.tags
        .slice(0, 20)
        .map((tag) => `\`${safeMrkdwn(tag, 40)}\``)
        .join(' ')
    : 'None';
  const score = sentimentScoreText(ticket.sentiment, ticket.sentimentScore);
  return [
    { type: 'mrkdwn', text: `*Priority*\n${PRIORITY_EMOJI[ticket.priority]} ${ticket.priority}${reasons}` },
    { type: 'mrkdwn', text: `*Status*\n${STATUS_LABEL[ticket.status]}` },
    { type: 'mrkdwn', text: `*Category*\n${CATEGORY_LABEL[ticket.category]}` },
    { type: 'mrkdwn', text: `*Sentiment*\n${SENTIMENT_LABEL[ticket.sentiment]}${score}` },
    { type: 'mrkdwn', text: `*Assignee*\n${ticket.assignee ? mentionUser(ticket.assignee) : 'Unassigned'}` },
    { type: 'mrkdwn', text: `*Escalation*\n${escalation}` },
    { type: 'mrkdwn', text: `*SLA*\n${slaStatus(ticket, now, clocks).line}` },
    { type: 'mrkdwn', text: `*Tags*\n${tags}` },
  ];
}

/**
 * The ticket card: who wrote, what they wrote (escaped, truncated, PII masked when configured),
 * triage, state, SLA, and the buttons to work it. A pure function of the ticket view and the time,
 * so it renders the same in the delivery worker, in tests and anywhere else.
 */
export function buildTicketCard(view: TicketView, options: TicketCardOptions): TicketCard {
  const { ticket, items } = view;
  const textLimit = options.textLimit ?? 1500;
  const latestLimit = options.latestLimit ?? 700;
  const first = items[0];
  const latest = items.length > 1 ? items[items.length - 1] : undefined;
  const blocks: KnownBlock[] = [];

  blocks.push({
    type: 'header',
    text: {
      type: 'plain_text',
      text: truncate(`${ticket.priority} · ${CATEGORY_LABEL[ticket.category]} · #${ticket.id}`, LIMITS.header),
      emoji: true,
    },
  });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: authorLine(view) }] });

  // Truncated text gets a Full text button beside it: the whole conversation is one click away.
  const fullText = button('Full text', ACTIONS.fullText, String(ticket.id));
  if (first) {
    const original = quote(displayText(first, ticket, options.maskPii, true), textLimit);
    const hint = original.truncated ? '\n_Truncated: Full text shows all of it._' : '';
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `${original.mrkdwn}${hint}` },
      ...(original.truncated ? { accessory: fullText } : {}),
    });
  } else {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '_No message text._' } });
  }

  if (latest) {
    const latestText = quote(displayText(latest, ticket, options.maskPii, false), latestLimit);
    const heading = `*Latest from the customer* (${items.length} messages in this conversation)`;
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `${heading}\n${latestText.mrkdwn}` },
      ...(latestText.truncated ? { accessory: fullText } : {}),
    });
  }

  blocks.push({ type: 'section', fields: fields(view, options.now, options.slaClocks) });

  const notes: string[] = [];
  const triage = ticket.triage as { lowConfidence?: unknown; confidence?: unknown; provider?: unknown };
  if (triage.provider === 'embedded-fallback') {
    notes.push(':zap: Triaged by the embedded classifier: OpenAI was unavailable');
  }
  if (triage.lowConfidence === true) {
    const confidence =
      typeof triage.confidence === 'number' ? ` (${Math.round(triage.confidence * 100)}% confident)` : '';
    notes.push(`:grey_question: Low-confidence triage${confidence}: check it, ⋯ › Correct triage`);
  }
  if (ticket.spam) notes.push(':no_entry_sign: Marked as spam');
  const reply = options.latestReply;
  if (reply) notes.push(replyNote(reply));
  if (notes.length) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: notes.join('\n') }] });

  const link = originalPostLink(first?.url);
  const footer = [`Ticket #${ticket.id}`, link].filter(Boolean).join('  ·  ');
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: footer }] });

  blocks.push(actionsBlock(ticket, reply));

  const who = view.author.handle ? `@${view.author.handle}` : (view.author.displayName ?? 'a customer');
  const preview = first ? displayText(first, ticket, options.maskPii, true).replace(/\s+/g, ' ') : '';
  const text = `${ticket.priority} ${CATEGORY_LABEL[ticket.category].toLowerCase()} from ${safeMrkdwn(who, 80)}: ${safeMrkdwn(preview, 200)}`;

  return { text: safeLimit(text), blocks: enforceBlockLimits(blocks) };
}

/** Replies Earshot sends by itself, named for what they are rather than by their `sentBy`. */
const SYSTEM_REPLIES: Readonly<Record<string, string>> = {
  'system:closing': 'The closing message',
  'system:auto-ack': 'The auto-acknowledgement',
};

function replyNote(reply: ReplySummary): string {
  const what =
    SYSTEM_REPLIES[reply.sentBy] ??
    (reply.sentBy.startsWith('system:') ? "Earshot's reply" : `${mentionUser(reply.sentBy)}'s reply`);
  const posts = reply.parts > 1 ? ` (${reply.parts} posts)` : '';
  if (reply.status === 'done') return `:outbox_tray: ${what} is posted${posts}`;
  if (reply.status === 'pending') return `:hourglass: ${what} is being sent${posts}`;
  const why = reply.lastError ? `: ${safeMrkdwn(reply.lastError, 300)}` : '';
  return `:x: ${what} could not be posted${why}. Retry reply sends it again.`;
}

function safeLimit(text: string): string {
  return text.length <= LIMITS.fallbackText ? text : truncate(text, LIMITS.fallbackText);
}

/**
 * The triage score beside the sentiment, signed (`+0.42`, `-0.90`). Left out when it contradicts
 * the label: an agent corrected the sentiment (the score stays triage's, for the corrections
 * report), or the label won by a hair ("Positive (0.0)" reads as a bug).
 */
export function sentimentScoreText(sentiment: Ticket['sentiment'], score: number): string {
  if (!Number.isFinite(score)) return '';
  const rounded = Math.round(score * 100) / 100;
  if ((sentiment === 'positive' && rounded <= 0) || (sentiment === 'negative' && rounded >= 0)) return '';
  return ` (${rounded > 0 ? '+' : ''}${rounded.toFixed(2)})`;
}
