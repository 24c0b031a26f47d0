import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { MAX_ESCALATION_TIER } from '../../../tickets/actions.js';
import { BLOCKS, INPUTS, VIEWS } from '../../ids.js';
import { safeMrkdwn } from '../../mrkdwn.js';
import { encodeMetadata, plain, VIEW_LIMITS } from '../view-parts.js';

export const ESCALATION_TIERS: readonly { tier: number; label: string }[] = [
  { tier: 1, label: 'Tier 1: team lead' },
  { tier: 2, label: 'Tier 2: specialist team' },
  { tier: 3, label: 'Tier 3: management / on-call' },
];

/** A user group the escalation can page, from `usergroups.list`. */
export interface UserGroupChoice {
  id: string;
  handle: string;
  name: string;
}

export interface EscalateModalInput {
  ticketId: number;
  currentTier: number;
  currentReason: string | null;
  /** Filled in by `views.update` after the modal opened, when the workspace has user groups. */
  userGroups?: readonly UserGroupChoice[];
}

export interface EscalateModalMetadata {
  ticketId: number;
}

/** The block holding the user-group picker (a second "whom to notify" choice besides a channel). */
export const ESCALATE_NOTIFY_GROUP_BLOCK = BLOCKS.escalateNotifyGroup;

function tierOption(tier: { tier: number; label: string }): PlainTextOption {
  return { text: plain(tier.label, VIEW_LIMITS.optionText), value: String(tier.tier) };
}

/** The Escalate modal: tier, reason, and whom to notify (a channel, or a user group when there are any). */
export function buildEscalateModal(input: EscalateModalInput): ModalView {
  const options = ESCALATION_TIERS.map(tierOption);
  const suggested = options[Math.min(input.currentTier, MAX_ESCALATION_TIER - 1)];
  const blocks: KnownBlock[] = [];
  if (input.currentTier > 0) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Now at tier ${input.currentTier}${input.currentReason ? `: ${safeMrkdwn(input.currentReason, 500)}` : ''}`,
        },
      ],
    });
  }
  blocks.push(
    {
      type: 'input',
      block_id: BLOCKS.escalateTier,
      label: plain('Tier', 75),
      element: {
        type: 'static_select',
        action_id: INPUTS.value,
        options,
        ...(suggested ? { initial_option: suggested } : {}),
      },
    },
    {
      type: 'input',
      block_id: BLOCKS.escalateReason,
      label: plain('Reason', 75),
      element: {
        type: 'plain_text_input',
        action_id: INPUTS.value,
        multiline: true,
        max_length: 500,
        placeholder: plain('Refund over $500; customer threatens chargeback', 150),
      },
    },
    {
      type: 'input',
      block_id: BLOCKS.escalateNotify,
      optional: true,
      label: plain('Notify a channel', 75),
      element: {
        type: 'conversations_select',
        action_id: INPUTS.value,
        placeholder: plain('Pick a channel', 75),
        filter: { include: ['public', 'private'], exclude_bot_users: true },
      },
    },
  );
  const groups = (input.userGroups ?? []).slice(0, VIEW_LIMITS.selectOptions);
  if (groups.length > 0) {
    blocks.push({
      type: 'input',
      block_id: ESCALATE_NOTIFY_GROUP_BLOCK,
      optional: true,
      label: plain('…or page a user group', 75),
      hint: plain('The group is mentioned in the ticket card’s thread.', 150),
      element: {
        type: 'static_select',
        action_id: INPUTS.value,
        placeholder: plain('Pick a user group', 75),
        options: groups.map((group) => ({
          text: plain(`@${group.handle} (${group.name})`, VIEW_LIMITS.optionText),
          value: group.id,
        })),
      },
    });
  }
  const metadata: EscalateModalMetadata = { ticketId: input.ticketId };
  return {
    type: 'modal',
    callback_id: VIEWS.escalate,
    title: plain(`Escalate #${input.ticketId}`, VIEW_LIMITS.title),
    submit: plain('Escalate', VIEW_LIMITS.button),
    close: plain('Cancel', VIEW_LIMITS.button),
    private_metadata: encodeMetadata({ ...metadata }),
    blocks,
  };
}

/** Reads the tier option back; anything but 1–3 is null (the listener answers with a block error). */
export function parseTier(value: string | null | undefined): number | null {
  if (!value || !/^\d$/.test(value)) return null;
  const tier = Number(value);
  return tier >= 1 && tier <= MAX_ESCALATION_TIER ? tier : null;
}
