import type { InputBlock, ModalView, PlainTextOption } from '@slack/types';
import {
  CATEGORIES,
  type Category,
  PRIORITIES,
  type Priority,
  type Sentiment,
  type Ticket,
} from '../../../tickets/types.js';
import { BLOCKS, INPUTS, VIEWS } from '../../ids.js';
import { encodeMetadata, plain, VIEW_LIMITS } from '../view-parts.js';

export const SENTIMENTS = ['negative', 'neutral', 'positive'] as const satisfies readonly Sentiment[];

const CATEGORY_LABELS: Record<Category, string> = {
  question: 'Question',
  complaint: 'Complaint',
  bug_report: 'Bug report',
  suggestion: 'Suggestion',
  praise: 'Praise',
  other: 'Other',
};
const PRIORITY_LABELS: Record<Priority, string> = {
  P1: 'P1: urgent',
  P2: 'P2: high',
  P3: 'P3: normal',
  P4: 'P4: low',
};

export interface CorrectModalMetadata {
  ticketId: number;
}

function select(blockId: string, label: string, options: PlainTextOption[], current: string): InputBlock {
  const initial = options.find((option) => option.value === current);
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label, 75),
    element: {
      type: 'static_select',
      action_id: INPUTS.value,
      options,
      ...(initial ? { initial_option: initial } : {}),
    },
  };
}

const opt = (value: string, label: string): PlainTextOption => ({ text: plain(label, 75), value });

/** The "Correct triage" modal: category, sentiment and priority, preset to what triage decided. */
export function buildCorrectModal(ticket: Pick<Ticket, 'id' | 'category' | 'sentiment' | 'priority'>): ModalView {
  const metadata: CorrectModalMetadata = { ticketId: ticket.id };
  return {
    type: 'modal',
    callback_id: VIEWS.correct,
    title: plain(`Correct #${ticket.id}`, VIEW_LIMITS.title),
    submit: plain('Save', VIEW_LIMITS.button),
    close: plain('Cancel', VIEW_LIMITS.button),
    private_metadata: encodeMetadata({ ...metadata }),
    blocks: [
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: 'Corrections are recorded and used to measure triage.' }],
      },
      select(
        BLOCKS.correctCategory,
        'Category',
        CATEGORIES.map((c) => opt(c, CATEGORY_LABELS[c])),
        ticket.category,
      ),
      select(
        BLOCKS.correctSentiment,
        'Sentiment',
        SENTIMENTS.map((s) => opt(s, s[0]!.toUpperCase() + s.slice(1))),
        ticket.sentiment,
      ),
      select(
        BLOCKS.correctPriority,
        'Priority',
        PRIORITIES.map((p) => opt(p, PRIORITY_LABELS[p])),
        ticket.priority,
      ),
    ],
  };
}

/** Narrows submitted values to the enums; anything else is dropped (treated as "unchanged"). */
export function parseCorrection(values: {
  category?: string | null;
  sentiment?: string | null;
  priority?: string | null;
}) {
  const pick = <T extends string>(list: readonly T[], value: string | null | undefined): T | undefined =>
    list.find((item) => item === value);
  return {
    category: pick(CATEGORIES, values.category),
    sentiment: pick(SENTIMENTS, values.sentiment),
    priority: pick(PRIORITIES, values.priority),
  };
}
