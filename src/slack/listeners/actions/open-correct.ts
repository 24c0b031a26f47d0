import type { App, BlockAction } from '@slack/bolt';
import { AppError } from '../../../errors.js';
import { getTicket } from '../../../tickets/queries.js';
import { buildCorrectModal } from '../../blocks/modals/correct.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS, OVERFLOW_OPTIONS } from '../../ids.js';
import { type ModalOpener, modalOpenerListener, openModal } from '../modal-opener.js';
import { overflowOption } from './ticket-action.js';

/** Opens the "Correct triage" modal (the card's overflow menu › Correct triage). */
export const openCorrectModal: ModalOpener = (deps, request) =>
  openModal(deps, request, {
    name: 'correct',
    permission: 'ticket.correct',
    build: async () => {
      const ticket = await getTicket(deps.db, request.ticketId);
      if (!ticket) throw new AppError('not_found', `Ticket #${request.ticketId} does not exist.`);
      return buildCorrectModal(ticket);
    },
  });

/** The overflow menu’s Correct triage. */
export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction>(
    ACTIONS.overflow,
    overflowOption(OVERFLOW_OPTIONS.correct),
    modalOpenerListener(deps, openCorrectModal),
  );
}
