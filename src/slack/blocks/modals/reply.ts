import type { InputBlock, KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { type PlannedReply, planReply, type ReplyRules, replyRulesFor } from '../../../replies/channel-rules.js';
import type { Source } from '../../../tickets/types.js';
import { ACTIONS, BLOCK_IDS, BLOCKS, VIEWS } from '../../ids.js';
import { safeMrkdwn, truncate } from '../../mrkdwn.js';
import { capBlocks, decodeMetadata, encodeMetadata, plain, VIEW_LIMITS } from '../view-parts.js';

/** The part of a source that decides how replies go out (kept in the modal, so live updates need no lookup). */
export interface ReplySourceRules {
  kind: Source['kind'];
  replyMaxLength?: number;
  replyThreads?: boolean;
}

export interface ReplyModalInput {
  ticketId: number;
  author: { handle: string | null; displayName: string | null };
  /** The customer's latest message (PII already masked if configured), shown above the reply box. */
  latestMessage: string;
  source: Pick<Source, 'kind' | 'settings'>;
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
  /** Where the card is, to tell the user about problems after the modal closed. */
  channelId?: string | null;
}

/** What a reply modal carries between opening, live updates and submission. */
export interface ReplyModalMetadata {
  ticketId: number;
  textRevision: number;
  channelId: string | null;
  source: ReplySourceRules;
}

function sourceRules(source: Pick<Source, 'kind' | 'settings'>): ReplySourceRules {
  const settings = source.settings ?? {};
  return {
    kind: source.kind,
    ...(typeof settings.replyMaxLength === 'number' ? { replyMaxLength: settings.replyMaxLength } : {}),
    ...(settings.replyThreads === true ? { replyThreads: true } : {}),
  };
}

/** The reply rules a modal was opened with. */
export function rulesOf(metadata: ReplyModalMetadata): ReplyRules {
  const { kind, ...settings } = metadata.source;
  return replyRulesFor({ kind, settings });
}

/** Reads a reply modal's private_metadata; null when it is not one. */
export function readReplyMetadata(privateMetadata: string | undefined): ReplyModalMetadata | null {
  const data = decodeMetadata(privateMetadata);
  const source = data.source as ReplySourceRules | undefined;
  if (typeof data.ticketId !== 'number' || !source || (source.kind !== 'x' && source.kind !== 'webhook')) return null;
  return {
    ticketId: data.ticketId,
    textRevision: typeof data.textRevision === 'number' ? data.textRevision : 0,
    channelId: typeof data.channelId === 'string' ? data.channelId : null,
    source,
  };
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

/** The context block that says where a pre-filled reply came from. */
export const REPLY_SUGGESTION_BLOCK = BLOCK_IDS.replySuggestion;

function suggestionNote(origin: string): KnownBlock {
  return {
    type: 'context',
    block_id: REPLY_SUGGESTION_BLOCK,
    elements: [
      {
        type: 'mrkdwn',
        text: `:bulb: Suggested reply (${safeMrkdwn(origin, 80)}) filled in below: read it before sending.`,
      },
    ],
  };
}

function isPreviewBlock(block: { block_id?: string }): boolean {
  return block.block_id === BLOCKS.replyPreview || Boolean(block.block_id?.startsWith(`${BLOCKS.replyPreview}.`));
}

function isTextBlock(block: { block_id?: string }): boolean {
  return block.block_id === BLOCKS.replyText || Boolean(block.block_id?.startsWith(`${BLOCKS.replyText}.`));
}

/** The preview: the count line, then each post as it will be sent. */
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

function textInput(revision: number, text: string, rules: ReplyRules): InputBlock {
  return {
    type: 'input',
    block_id: replyTextBlockId(revision),
    dispatch_action: true,
    label: plain(`Reply on ${rules.label}`, 75),
    element: {
      type: 'plain_text_input',
      action_id: ACTIONS.replyTextChanged,
      multiline: true,
      max_length: VIEW_LIMITS.textInput,
      dispatch_action_config: { trigger_actions_on: ['on_character_entered'] },
      ...(text ? { initial_value: truncate(text, VIEW_LIMITS.textInput) } : {}),
    },
  };
}

function modal(blocks: KnownBlock[], plan: PlannedReply, metadata: ReplyModalMetadata): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.reply,
    title: plain(`Reply to #${metadata.ticketId}`, VIEW_LIMITS.title),
    submit: plain(plan.parts.length > 1 ? `Send ${plan.parts.length} posts` : 'Send reply', VIEW_LIMITS.button),
    close: plain('Cancel', VIEW_LIMITS.button),
    private_metadata: encodeMetadata({ ...metadata }),
    blocks: capBlocks(blocks, VIEW_LIMITS.blocks, 'preview sections'),
  };
}

/**
 * The Reply modal: the customer's latest message, a template picker, the reply box (dispatching on
 * every character so the count and preview stay live), and a preview of the posts it becomes.
 */
export function buildReplyModal(input: ReplyModalInput): ModalView {
  const revision = input.textRevision ?? 0;
  const metadata: ReplyModalMetadata = {
    ticketId: input.ticketId,
    textRevision: revision,
    channelId: input.channelId ?? null,
    source: sourceRules(input.source),
  };
  const rules = rulesOf(metadata);
  const plan = planReply(input.text, rules);
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

  if (input.suggestion) blocks.push(suggestionNote(input.suggestion.origin));

  blocks.push(textInput(revision, input.text, rules), ...previewBlocks(plan, rules));
  return modal(blocks, plan, metadata);
}

/**
 * The open modal with new reply text: the count and preview recomputed; with `replaceText` (a
 * template was picked) the text box itself is replaced under a new block_id so Slack shows the new
 * text instead of what was typed. Pure: live updates need no database read.
 */
export function rebuildReplyModal(
  current: { blocks: readonly unknown[]; private_metadata?: string },
  text: string,
  options: { replaceText?: boolean; suggestionOrigin?: string } = {},
): ModalView | null {
  const metadata = readReplyMetadata(current.private_metadata);
  if (!metadata) return null;
  const rules = rulesOf(metadata);
  const plan = planReply(text, rules);
  const next: ReplyModalMetadata = options.replaceText
    ? { ...metadata, textRevision: metadata.textRevision + 1 }
    : metadata;
  const blocks: KnownBlock[] = [];
  for (const block of current.blocks as KnownBlock[]) {
    if (isPreviewBlock(block)) continue;
    if (block.block_id === REPLY_SUGGESTION_BLOCK && options.suggestionOrigin) continue;
    if (isTextBlock(block)) {
      if (options.suggestionOrigin) blocks.push(suggestionNote(options.suggestionOrigin));
      blocks.push(options.replaceText ? textInput(next.textRevision, text, rules) : block);
      blocks.push(...previewBlocks(plan, rules));
      continue;
    }
    blocks.push(block);
  }
  return modal(blocks, plan, next);
}

type StateValues = Record<string, Record<string, { value?: string | null } | undefined>>;

/** The reply text in a submitted or updated view's state, and the block_id it lives under. */
export function readReplyText(values: StateValues, metadata: ReplyModalMetadata): { text: string; blockId: string } {
  const blockId = replyTextBlockId(metadata.textRevision);
  const value = values[blockId]?.[ACTIONS.replyTextChanged]?.value;
  return { text: value ?? '', blockId };
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
