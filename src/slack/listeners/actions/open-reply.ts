import type { App, BlockAction } from '@slack/bolt';
import { bestTemplate, listTemplates, renderTemplate, templateValuesFor } from '../../../replies/templates.js';
import { nextStatus } from '../../../tickets/lifecycle.js';
import { getTicketView, type TicketView } from '../../../tickets/queries.js';
import { buildReplyModal, rebuildReplyModal } from '../../blocks/modals/reply.js';
import { displayText } from '../../blocks/ticket-card.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS } from '../../ids.js';
import { type ModalOpener, modalOpenerListener, openModal, updateViewIfUnchanged } from '../modal-opener.js';

/**
 * Opens the Reply modal: the customer's latest message, templates (the best match for the message
 * pre-filled as a suggestion), the live count against the source's limit. Refused for viewers, and
 * for tickets that are resolved or closed (reopen first). When the triage engine can draft a reply
 * (OpenAI), the draft arrives after the modal is open, by `views.update`, unless the user has
 * started typing (the view's hash changed).
 */
export const openReplyModal: ModalOpener = (deps, request) => {
  let loaded: { view: TicketView; templates: Awaited<ReturnType<typeof listTemplates>> } | null = null;
  return openModal(deps, request, {
    name: 'reply',
    permission: 'ticket.reply',
    build: async () => {
      const view = await getTicketView(deps.db, request.ticketId);
      nextStatus('reply', view.ticket);
      const templates = await listTemplates(deps.db);
      loaded = { view, templates };
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
    after: async (opened) => {
      const suggest = deps.suggestReply;
      if (!suggest || !loaded) return;
      const { view, templates } = loaded;
      let draft: Awaited<ReturnType<NonNullable<SlackDeps['suggestReply']>>>;
      try {
        draft = await suggest({
          text: view.items.at(-1)?.text ?? '',
          language: view.ticket.language,
          category: view.ticket.category,
          customerName: view.author.displayName ?? view.author.handle,
          templates,
        });
      } catch (err) {
        deps.logger.warn({ err, ticketId: view.ticket.id }, 'reply suggestion failed; the modal keeps its template');
        return;
      }
      // Template matches are already in the modal; only a drafted reply is worth replacing it with.
      if (draft.source !== 'openai' || !draft.text.trim()) return;
      const next = rebuildReplyModal({ blocks: opened.blocks, private_metadata: opened.privateMetadata }, draft.text, {
        replaceText: true,
        suggestionOrigin: 'drafted by AI',
      });
      if (next) await updateViewIfUnchanged(deps, request.client, { id: opened.viewId, hash: opened.hash }, next);
    },
  });
};

/** The card's Reply button. */
export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction>(ACTIONS.reply, modalOpenerListener(deps, openReplyModal));
}
