import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { BLOCKS, INPUTS, VIEWS } from '../../ids.js';
import { capBlocks, encodeMetadata, plain, VIEW_LIMITS } from '../view-parts.js';

export interface TagModalInput {
  ticketId: number;
  /** Tags on the ticket now: preselected, and removed when the user deselects them. */
  current: readonly string[];
  /** The catalogue (`tags` table). */
  known: readonly string[];
}

export interface TagModalMetadata {
  ticketId: number;
  /** What was preselected, so a submission removes only what the user deselected. */
  shown: string[];
}

function option(tag: string): PlainTextOption {
  return { text: plain(tag, VIEW_LIMITS.optionText), value: tag };
}

/**
 * The Tag modal: a multi-select of known tags (the ticket's own preselected) and a box for new ones.
 * Tags are normalized short words (`normalizeTags`), so option values never carry markup.
 */
export function buildTagModal(input: TagModalInput): ModalView {
  // The ticket's own tags always appear, even if the catalogue is long; then the rest, up to 100.
  const names = [...new Set([...input.current, ...input.known])].slice(0, VIEW_LIMITS.selectOptions);
  const shown = input.current.filter((tag) => names.includes(tag));
  const blocks: KnownBlock[] = [];
  if (names.length > 0) {
    const options = names.map(option);
    blocks.push({
      type: 'input',
      block_id: BLOCKS.tagSelect,
      optional: true,
      label: plain('Tags', 75),
      element: {
        type: 'multi_static_select',
        action_id: INPUTS.value,
        placeholder: plain('Pick tags', 75),
        options,
        ...(shown.length > 0 ? { initial_options: shown.map(option) } : {}),
      },
    });
  }
  blocks.push({
    type: 'input',
    block_id: BLOCKS.tagNew,
    optional: true,
    label: plain(names.length > 0 ? 'New tags' : 'Tags', 75),
    hint: plain('Separate with commas or spaces: refund, checkout-bug', 150),
    element: {
      type: 'plain_text_input',
      action_id: INPUTS.value,
      max_length: 300,
      placeholder: plain('refund, checkout-bug', 75),
    },
  });
  const metadata: TagModalMetadata = { ticketId: input.ticketId, shown };
  return {
    type: 'modal',
    callback_id: VIEWS.tag,
    title: plain(`Tag #${input.ticketId}`, VIEW_LIMITS.title),
    submit: plain('Save tags', VIEW_LIMITS.button),
    close: plain('Cancel', VIEW_LIMITS.button),
    private_metadata: encodeMetadata({ ...metadata }),
    blocks: capBlocks(blocks, VIEW_LIMITS.blocks),
  };
}

/** Splits the "new tags" box into words (commas, spaces, newlines); normalization happens in the domain. */
export function parseNewTags(text: string | null | undefined): string[] {
  return (text ?? '')
    .split(/[\s,]+/)
    .map((tag) => tag.trim())
    .filter(Boolean);
}
