import type { App, BlockAction } from '@slack/bolt';
import { bestTemplate, listTemplates, renderTemplate, templateValuesFor } from '../../../replies/templates.js';
import { nextStatus } from '../../../tickets/lifecycle.js';
import { getTicketView } from '../../../tickets/queries.js';
import { buildReplyModal } from '../../blocks/modals/reply.js';
import { displayText } from '../../blocks/ticket-card.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS } from '../../ids.js';
import { type ModalOpener, modalOpenerListener, openModal } from '../modal-opener.js';

/**
 * Opens the Reply modal: the customer's latest message, templates (the best match for the message
 * pre-filled as a suggestion), the live count against the source's limit. Refused for viewers, and
 * for tickets that are resolved or closed (reopen first).
 */
export const openReplyModal: ModalOpener = (deps, request) =>
  openModal(deps, request, {
    name: 'reply',
    permission: 'ticket.reply',
    build: async () => {
      const view = await getTicketView(deps.db, request.ticketId);
      nextStatus('reply', view.ticket);
      const templates = await listTemplates(deps.db);
      const latest = view.items.at(-1);
      const latestText = latest
        ? displayText(latest, view.ticket, deps.config.EARSHOT_MASK_PII, view.items.length === 1)
        : '';
      const suggested = bestTemplate(templates, { text: latest?.text ?? '', category: view.ticket.category });
      const suggestion = suggested
        ? { text: renderTemplate(suggested.body, templateValuesFor(view)), origin: `template “${suggested.name}”` }
        : null;
      return buildReplyModal({
        ticketId: view.ticket.id,
        author: view.author,
        latestMessage: latestText,
        source: view.source,
        templates,
        selectedTemplateId: suggested?.id ?? null,
        text: suggestion?.text ?? '',
        suggestion,
        channelId: request.channelId ?? null,
      });
    },
  });

/** The card's Reply button. */
export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction>(ACTIONS.reply, modalOpenerListener(deps, openReplyModal));
}
