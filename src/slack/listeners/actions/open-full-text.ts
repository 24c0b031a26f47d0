import type { App, BlockAction } from '@slack/bolt';
import { getTicketView } from '../../../tickets/queries.js';
import { buildFullTextModal, type ConversationEntry } from '../../blocks/modals/full-text.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS, OVERFLOW_OPTIONS } from '../../ids.js';
import { listTicketReplies } from '../../modal-data.js';
import { type ModalOpener, modalOpenerListener, openModal } from '../modal-opener.js';
import { overflowOption } from './ticket-action.js';

/** Opens the read-only conversation (overflow › Full text, App Home › Open): customer messages and our replies. */
export const openFullTextModal: ModalOpener = (deps, request) =>
  openModal(deps, request, {
    name: 'full_text',
    permission: 'ticket.view',
    build: async () => {
      const view = await getTicketView(deps.db, request.ticketId);
      const sent = await listTicketReplies(deps.db, request.ticketId);
      const who = view.author.handle ? `@${view.author.handle}` : (view.author.displayName ?? 'The customer');
      const entries: ConversationEntry[] = [
        ...view.items.map(
          (item): ConversationEntry => ({
            from: 'customer',
            who,
            at: item.createdAt,
            text: item.text,
            url: item.url,
            triage: item.triage,
          }),
        ),
        ...sent.map(
          (reply): ConversationEntry => ({ from: 'agent', who: reply.sentBy, at: reply.createdAt, text: reply.text }),
        ),
      ].sort((a, b) => a.at.getTime() - b.at.getTime());
      return buildFullTextModal({ ticketId: view.ticket.id, entries, maskPii: deps.config.EARSHOT_MASK_PII });
    },
  });

/** The card's Full text button (beside truncated text) and the overflow menu’s Full text. */
export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction>(ACTIONS.fullText, modalOpenerListener(deps, openFullTextModal));
  app.action<BlockAction>(
    ACTIONS.overflow,
    overflowOption(OVERFLOW_OPTIONS.fullText),
    modalOpenerListener(deps, openFullTextModal),
  );
}
