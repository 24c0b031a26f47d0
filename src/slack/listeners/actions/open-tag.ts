import type { App, BlockAction } from '@slack/bolt';
import { AppError } from '../../../errors.js';
import { getTicket } from '../../../tickets/queries.js';
import { buildTagModal } from '../../blocks/modals/tag.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS } from '../../ids.js';
import { listKnownTags } from '../../modal-data.js';
import { type ModalOpener, modalOpenerListener, openModal } from '../modal-opener.js';

/** Opens the Tag modal: known tags (the ticket's preselected) and a box for new ones. */
export const openTagModal: ModalOpener = (deps, request) =>
  openModal(deps, request, {
    name: 'tag',
    permission: 'ticket.tag',
    build: async () => {
      const ticket = await getTicket(deps.db, request.ticketId);
      if (!ticket) throw new AppError('not_found', `Ticket #${request.ticketId} does not exist.`);
      return buildTagModal({ ticketId: ticket.id, current: ticket.tags, known: await listKnownTags(deps.db) });
    },
  });

/** The card's Tag button. */
export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction>(ACTIONS.tag, modalOpenerListener(deps, openTagModal));
}
