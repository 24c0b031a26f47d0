import type { App, BlockAction } from '@slack/bolt';
import { AppError } from '../../../errors.js';
import { getTicket } from '../../../tickets/queries.js';
import { buildEscalateModal, type UserGroupChoice } from '../../blocks/modals/escalate.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS } from '../../ids.js';
import { type ModalOpener, modalOpenerListener, openModal } from '../modal-opener.js';

/**
 * Opens the Escalate modal at once, then (the slow part) asks Slack for the workspace's user groups
 * and, when there are any, adds a picker for them with `views.update`. A workspace without the
 * `usergroups:read` scope or without groups simply keeps the channel picker.
 */
export const openEscalateModal: ModalOpener = (deps, request) => {
  let ticket: Awaited<ReturnType<typeof getTicket>> = null;
  return openModal(deps, request, {
    name: 'escalate',
    permission: 'ticket.escalate',
    build: async () => {
      ticket = await getTicket(deps.db, request.ticketId);
      if (!ticket) throw new AppError('not_found', `Ticket #${request.ticketId} does not exist.`);
      return buildEscalateModal({
        ticketId: ticket.id,
        currentTier: ticket.escalationTier,
        currentReason: ticket.escalationReason,
      });
    },
    after: async ({ viewId, hash }) => {
      if (!ticket) return;
      let userGroups: UserGroupChoice[] = [];
      try {
        const listed = await request.client.usergroups.list({ include_disabled: false });
        userGroups = (listed.usergroups ?? [])
          .filter((group) => group.id && group.handle)
          .map((group) => ({ id: group.id!, handle: group.handle!, name: group.name ?? group.handle! }));
      } catch (err) {
        deps.logger.debug({ err }, 'user groups unavailable for the Escalate modal; offering channels only');
        return;
      }
      if (userGroups.length === 0) return;
      await request.client.views.update({
        view_id: viewId,
        ...(hash ? { hash } : {}),
        view: buildEscalateModal({
          ticketId: ticket.id,
          currentTier: ticket.escalationTier,
          currentReason: ticket.escalationReason,
          userGroups,
        }),
      });
    },
  });
};

/** The card's Escalate button. */
export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction>(ACTIONS.escalate, modalOpenerListener(deps, openEscalateModal));
}
