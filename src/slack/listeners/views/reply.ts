import type { App, BlockAction, PlainTextInputAction, StaticSelectAction, ViewSubmitAction } from '@slack/bolt';
import { AppError } from '../../../errors.js';
import { planReply } from '../../../replies/channel-rules.js';
import { getTemplate, renderTemplate, templateValuesFor } from '../../../replies/templates.js';
import { recordReply } from '../../../tickets/actions.js';
import { getTicketView } from '../../../tickets/queries.js';
import {
  readReplyMetadata,
  readReplyText,
  rebuildReplyModal,
  replyErrors,
  rulesOf,
} from '../../blocks/modals/reply.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS, BLOCKS, VIEWS } from '../../ids.js';
import { updateViewIfUnchanged } from '../modal-opener.js';
import { reportFailure, tellUser } from '../tell-user.js';
import { ackErrors, submitOrShowErrors } from './submit.js';

/** What the user is told when a Reply modal lost track of its ticket (its private_metadata is unreadable). */
const LOST_METADATA =
  'This reply form lost track of its ticket, so nothing was sent. Close it and press Reply on the card again.';

interface OpenView {
  id: string;
  hash?: string;
  blocks: readonly unknown[];
  private_metadata?: string;
}

/**
 * The Reply modal's listeners: live count and preview as the user types, filling the box from a
 * picked template, and the submission, which records the reply once (the view id is the
 * idempotency key, so a double submit records nothing new).
 */
export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction<PlainTextInputAction>>(ACTIONS.replyTextChanged, async ({ ack, body, action, client }) => {
    await ack();
    const view = body.view as OpenView | undefined;
    if (!view) return;
    const next = rebuildReplyModal(view, action.value ?? '');
    if (next) await updateViewIfUnchanged(deps, client, view, next);
  });

  app.action<BlockAction<StaticSelectAction>>(ACTIONS.templatePicked, async ({ ack, body, action, client }) => {
    await ack();
    const view = body.view as OpenView | undefined;
    const metadata = readReplyMetadata(view?.private_metadata);
    // Inside a modal there is no channel to answer in: the card's channel (kept in the metadata), else a DM.
    const target = { client, userId: body.user.id, channelId: metadata?.channelId ?? undefined };
    const log = deps.logger.child({ component: 'slack-views' });
    try {
      if (!view || !metadata) throw new AppError('invalid_input', LOST_METADATA, { details: { hint: false } });
      const template = await getTemplate(deps.db, Number(action.selected_option?.value));
      if (!template)
        throw new AppError(
          'not_found',
          'That template was removed meanwhile; `/earshot template list` shows the others.',
          {
            details: { hint: false },
          },
        );
      const ticket = await getTicketView(deps.db, metadata.ticketId);
      const next = rebuildReplyModal(view, renderTemplate(template.body, templateValuesFor(ticket)), {
        replaceText: true,
      });
      if (!next) throw new AppError('invalid_input', LOST_METADATA, { details: { hint: false } });
      await updateViewIfUnchanged(deps, client, view, next);
    } catch (err) {
      await reportFailure(err, target, log, { action: ACTIONS.templatePicked, ticketId: metadata?.ticketId ?? null });
    }
  });

  app.view<ViewSubmitAction>(VIEWS.reply, async ({ ack, body, view }) => {
    const metadata = readReplyMetadata(view.private_metadata);
    if (!metadata) {
      // Say so on the text box, keeping what the user typed, rather than close as if the reply was sent.
      deps.logger.error({ viewId: view.id, userId: body.user.id }, 'Reply modal submitted without readable metadata');
      const block = Object.keys(view.state.values).find(
        (id) => id === BLOCKS.replyText || id.startsWith(`${BLOCKS.replyText}.`),
      );
      if (block) {
        await ackErrors(ack, { [block]: `${LOST_METADATA} Copy your text first.` });
      } else {
        await ack();
        await tellUser({ client: deps.client, userId: body.user.id }, `:warning: ${LOST_METADATA}`).catch(
          (err: unknown) =>
            deps.logger.error({ err, userId: body.user.id }, 'could not tell the user their reply was not sent'),
        );
      }
      return;
    }
    const { text, blockId } = readReplyText(view.state.values as never, metadata);
    const rules = rulesOf(metadata);
    const plan = planReply(text, rules);
    const errors = replyErrors(plan, rules, blockId);
    if (errors) {
      await ackErrors(ack, errors);
      return;
    }
    const done = await submitOrShowErrors(ack, deps.logger, {
      context: { modal: 'reply', ticketId: metadata.ticketId, userId: body.user.id },
      defaultBlock: blockId,
      run: async () => {
        const actor = await deps.resolveActor(body.user.id);
        // Idempotent on the view id: a second delivery of this submission, even at the same moment, records nothing new.
        await recordReply(deps.db, actor, {
          ticketId: metadata.ticketId,
          text: plan.text,
          parts: plan.parts,
          idempotencyKey: view.id,
        });
      },
    });
    if (done) deps.wakeDelivery();
  });
}
