import type { KnownBlock } from '@slack/types';
import { truncate } from '../mrkdwn.js';

/** Block Kit limits Slack enforces (it rejects the whole message with `invalid_blocks` past them). */
export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  field: 2000,
  fields: 10,
  header: 150,
  buttonText: 75,
  buttonValue: 2000,
  actionsElements: 25,
  contextElements: 10,
  overflowOptions: 5,
  optionText: 75,
  /** Slack answers `msg_blocks_too_long` somewhere around 13k characters of blocks; stay well under. */
  messageTextBudget: 12_000,
  /** The notification fallback: Slack truncates past 40k, but a fallback is a line, not a page. */
  fallbackText: 3000,
} as const;

type Text = { type: string; text: string };

function clampText<T extends Text>(text: T, max: number): T {
  // Builders escape and size text themselves; this is the last guard, so a bug costs a shortened
  // line rather than a card Slack refuses to post.
  return text.text.length <= max ? text : { ...text, text: truncate(text.text, max) };
}

/**
 * Clamps a message's blocks to Slack's limits: the block count, section and field text, header,
 * button text and value, element counts, and (for messages) the total text Slack takes before it
 * answers `msg_blocks_too_long`. Builders aim to stay inside already; this guarantees it.
 */
export function enforceBlockLimits(blocks: readonly KnownBlock[], maxBlocks: number = LIMITS.messageBlocks) {
  const clamped = clampBlocks(blocks, maxBlocks);
  return maxBlocks <= LIMITS.messageBlocks ? fitTextBudget(clamped, LIMITS.messageTextBudget) : clamped;
}

/** Every text object (`{ type, text }`) in a list of blocks, wherever it sits. */
function textObjects(value: unknown, found: Text[] = []): Text[] {
  if (Array.isArray(value)) {
    for (const item of value) textObjects(item, found);
  } else if (value && typeof value === 'object') {
    const object = value as Partial<Text>;
    if ((object.type === 'mrkdwn' || object.type === 'plain_text') && typeof object.text === 'string')
      found.push(object as Text);
    for (const child of Object.values(value)) if (child && typeof child === 'object') textObjects(child, found);
  }
  return found;
}

/**
 * Keeps the blocks' total text within `budget` characters by shortening the longest texts first
 * (the customer's quote, long reasons), never below a line's worth. Works on a copy.
 */
export function fitTextBudget(blocks: readonly KnownBlock[], budget: number): KnownBlock[] {
  const copy = structuredClone(blocks) as KnownBlock[];
  const texts = textObjects(copy);
  let excess = texts.reduce((sum, t) => sum + t.text.length, 0) - budget;
  if (excess <= 0) return copy;
  for (const text of [...texts].sort((a, b) => b.text.length - a.text.length)) {
    if (excess <= 0) break;
    const cut = Math.min(excess, text.text.length - 80);
    if (cut <= 0) continue;
    const before = text.text.length;
    // A cut never leaves half an entity or an unclosed `<…` behind.
    text.text = truncate(text.text, before - cut)
      .replace(/&[a-z]*…$/, '…')
      .replace(/<[^>]*…$/, '…');
    excess -= before - text.text.length;
  }
  return copy;
}

function clampBlocks(blocks: readonly KnownBlock[], maxBlocks: number): KnownBlock[] {
  return blocks.slice(0, maxBlocks).map((block): KnownBlock => {
    switch (block.type) {
      case 'header':
        return { ...block, text: clampText(block.text, LIMITS.header) };
      case 'section':
        return {
          ...block,
          ...(block.text ? { text: clampText(block.text, LIMITS.sectionText) } : {}),
          ...(block.fields
            ? { fields: block.fields.slice(0, LIMITS.fields).map((field) => clampText(field, LIMITS.field)) }
            : {}),
        };
      case 'context':
        return {
          ...block,
          elements: block.elements
            .slice(0, LIMITS.contextElements)
            .map((element) => ('text' in element ? clampText(element, LIMITS.sectionText) : element)),
        };
      case 'actions':
        return {
          ...block,
          elements: block.elements.slice(0, LIMITS.actionsElements).map((element) => {
            if (element.type === 'button') {
              return {
                ...element,
                text: clampText(element.text, LIMITS.buttonText),
                ...(element.value !== undefined ? { value: element.value.slice(0, LIMITS.buttonValue) } : {}),
              };
            }
            if (element.type === 'overflow') {
              return {
                ...element,
                options: element.options
                  .slice(0, LIMITS.overflowOptions)
                  .map((option) => ({ ...option, text: clampText(option.text, LIMITS.optionText) })),
              };
            }
            return element;
          }),
        };
      default:
        return block;
    }
  });
}
