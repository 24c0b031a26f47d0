import type { ModalView } from '@slack/types';
import { BLOCKS, INPUTS, VIEWS } from '../../ids.js';
import { encodeMetadata, plain, VIEW_LIMITS } from '../view-parts.js';

export interface AssignModalInput {
  ticketId: number;
  assignee: string | null;
}

export interface AssignModalMetadata {
  ticketId: number;
}

/** The Assign modal: one users_select, preset to whoever holds the ticket now. */
export function buildAssignModal(input: AssignModalInput): ModalView {
  const metadata: AssignModalMetadata = { ticketId: input.ticketId };
  return {
    type: 'modal',
    callback_id: VIEWS.assign,
    title: plain(`Assign #${input.ticketId}`, VIEW_LIMITS.title),
    submit: plain('Assign', VIEW_LIMITS.button),
    close: plain('Cancel', VIEW_LIMITS.button),
    private_metadata: encodeMetadata({ ...metadata }),
    blocks: [
      {
        type: 'input',
        block_id: BLOCKS.assignUser,
        label: plain('Assign to', 75),
        element: {
          type: 'users_select',
          action_id: INPUTS.value,
          placeholder: plain('Pick a teammate', 75),
          ...(input.assignee ? { initial_user: input.assignee } : {}),
        },
      },
    ],
  };
}
