import type { App, BlockAction } from '@slack/bolt';
import { AppError } from '../../../errors.js';
import { getTicket } from '../../../tickets/queries.js';
import { buildAssignModal } from '../../blocks/modals/assign.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS, OVERFLOW_OPTIONS } from '../../ids.js';
import { type ModalOpener, modalOpenerListener, openModal } from '../modal-opener.js';
import { overflowOption } from './ticket-action.js';

/**
 * Opens the Assign modal (the card's overflow menu › Assign to…). Assigning someone else is a lead's
 * call, so agents are refused before anything opens; they take tickets with Claim.
 */
export const openAssignModal: ModalOpener = (deps, request) =>
  openModal(deps, request, {
    name: 'assign',
    permission: 'ticket.assign',
    build: async () => {
      const ticket = await getTicket(deps.db, request.ticketId);
      if (!ticket) throw new AppError('not_found', `Ticket #${request.ticketId} does not exist.`);
      return buildAssignModal({ ticketId: ticket.id, assignee: ticket.assignee });
    },
  });

/** The overflow menu’s Assign to…. */
export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction>(
    ACTIONS.overflow,
    overflowOption(OVERFLOW_OPTIONS.assign),
    modalOpenerListener(deps, openAssignModal),
  );
}
