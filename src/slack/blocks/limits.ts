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
 * button text and value, element counts. Builders aim to stay inside already; this guarantees it.
 */
export function enforceBlockLimits(blocks: readonly KnownBlock[], maxBlocks: number = LIMITS.messageBlocks) {
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
