import type { InputBlock, KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { type PlannedReply, planReply, type ReplyRules } from '../../../replies/channel-rules.js';
import { ACTIONS, BLOCKS, VIEWS } from '../../ids.js';
import { safeMrkdwn, truncate } from '../../mrkdwn.js';
import { capBlocks, encodeMetadata, plain, VIEW_LIMITS } from '../view-parts.js';

export interface ReplyModalInput {
  ticketId: number;
  author: { handle: string | null; displayName: string | null };
  /** The customer's latest message, shown above the reply box. */
  latestMessage: string;
  rules: ReplyRules;
  templates: readonly { id: number; name: string }[];
  selectedTemplateId?: number | null;
  /** The reply text as it stands (typed, or filled from a template or suggestion). */
  text: string;
  /**
   * Slack keeps what a user typed across `views.update` when the input's block_id is unchanged, so
   * filling the box from a template bumps the revision, which gives the input a new block_id.
   */
  textRevision?: number;
  suggestion?: { text: string; origin: string } | null;
  /** Where to tell the user about problems (the card's channel). */
  channelId?: string | null;
}

/** What a reply modal carries between opening, live updates and submission. */
export interface ReplyModalMetadata {
  ticketId: number;
  textRevision: number;
  channelId: string | null;
}

/** The block_id of the reply text input at a revision; every revision's id starts with BLOCKS.replyText. */
export function replyTextBlockId(revision: number): string {
  return revision === 0 ? BLOCKS.replyText : `${BLOCKS.replyText}.${revision}`;
}

/** "123 / 280 on X · 2 posts", or what stops the reply being sent. */
export function describeCount(plan: PlannedReply, rules: Pick<ReplyRules, 'label' | 'limit' | 'threads'>): string {
  const count = `${plan.weight} / ${rules.limit} on ${rules.label}`;
  if (plan.problem === 'empty') return `${count} · write a reply or pick a template`;
  if (plan.problem === 'too_long') return `:warning: ${count} · too long: ${rules.label} takes one message, shorten it`;
  if (plan.parts.length > 1) return `${count} · sent as a thread of ${plan.parts.length} posts`;
  return count;
}

function templateOption(template: { id: number; name: string }): PlainTextOption {
  return { text: plain(template.name, VIEW_LIMITS.optionText), value: String(template.id) };
}

/** The preview: the count line, then each post as it will be sent (escaped, within section limits). */
function previewBlocks(plan: PlannedReply, rules: ReplyRules): KnownBlock[] {
  const blocks: KnownBlock[] = [
    {
      type: 'context',
      block_id: BLOCKS.replyPreview,
      elements: [{ type: 'mrkdwn', text: describeCount(plan, rules) }],
    },
  ];
  // Posts are shown as plain_text: exactly what the customer will read, with nothing for mrkdwn to interpret.
  plan.parts.forEach((part, index) => {
    blocks.push({
      type: 'section',
      block_id: `${BLOCKS.replyPreview}.${index}`,
      text: plain(part, VIEW_LIMITS.sectionText),
    });
  });
  return blocks;
}

/**
 * The Reply modal: the customer's latest message, a template picker, the reply box (dispatching on
 * every character so the count and preview stay live), and a preview of the posts it becomes.
 */
export function buildReplyModal(input: ReplyModalInput): ModalView {
  const revision = input.textRevision ?? 0;
  const plan = planReply(input.text, input.rules);
  const who = input.author.handle ? `@${input.author.handle}` : (input.author.displayName ?? 'The customer');
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${safeMrkdwn(who, 80)}* wrote:\n${safeMrkdwn(input.latestMessage, 1500)}`,
      },
    },
  ];

  const templates = input.templates.slice(0, VIEW_LIMITS.selectOptions);
  if (templates.length > 0) {
    const options = templates.map(templateOption);
    const selected = options.find((option) => option.value === String(input.selectedTemplateId));
    blocks.push({
      type: 'input',
      block_id: BLOCKS.replyTemplate,
      optional: true,
      dispatch_action: true,
      label: plain('Template', 75),
      element: {
        type: 'static_select',
        action_id: ACTIONS.templatePicked,
        placeholder: plain('Start from a template', 75),
        options,
        ...(selected ? { initial_option: selected } : {}),
      },
    } satisfies InputBlock);
  } else {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'No reply templates yet: leads add them with `/earshot template add`.' }],
    });
  }

  if (input.suggestion) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `:bulb: Suggested reply (${safeMrkdwn(input.suggestion.origin, 80)}) filled in below: read it before sending.`,
        },
      ],
    });
  }

  blocks.push({
    type: 'input',
    block_id: replyTextBlockId(revision),
    dispatch_action: true,
    label: plain(`Reply on ${input.rules.label}`, 75),
    element: {
      type: 'plain_text_input',
      action_id: ACTIONS.replyTextChanged,
      multiline: true,
      max_length: VIEW_LIMITS.textInput,
      dispatch_action_config: { trigger_actions_on: ['on_character_entered'] },
      ...(input.text ? { initial_value: truncate(input.text, VIEW_LIMITS.textInput) } : {}),
    },
  } satisfies InputBlock);

  blocks.push(...previewBlocks(plan, input.rules));

  const metadata: ReplyModalMetadata = {
    ticketId: input.ticketId,
    textRevision: revision,
    channelId: input.channelId ?? null,
  };
  return {
    type: 'modal',
    callback_id: VIEWS.reply,
    title: plain(`Reply to #${input.ticketId}`, VIEW_LIMITS.title),
    submit: plain(plan.parts.length > 1 ? `Send ${plan.parts.length} posts` : 'Send reply', VIEW_LIMITS.button),
    close: plain('Cancel', VIEW_LIMITS.button),
    private_metadata: encodeMetadata({ ...metadata }),
    blocks: capBlocks(blocks, VIEW_LIMITS.blocks, 'preview sections'),
  };
}

/** Validation of a submitted reply, as `response_action: 'errors'` wants it (block_id → message). */
export function replyErrors(plan: PlannedReply, rules: ReplyRules, textBlockId: string): Record<string, string> | null {
  if (plan.problem === 'empty') return { [textBlockId]: 'Write a reply, or pick a template.' };
  if (plan.problem === 'too_long') {
    return {
      [textBlockId]: `Too long for ${rules.label}: ${plan.weight} characters, at most ${rules.limit} in one message.`,
    };
  }
  return null;
}
