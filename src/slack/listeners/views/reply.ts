import type { App, BlockAction, PlainTextInputAction, StaticSelectAction, ViewSubmitAction } from '@slack/bolt';
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
import { ACTIONS, VIEWS } from '../../ids.js';
import { updateViewIfUnchanged } from '../modal-opener.js';
import { ackErrors, submitOrShowErrors } from './submit.js';

interface OpenView {
  id: string;
  hash?: string;
  blocks: readonly unknown[];
  private_metadata?: string;
}

/** A unique-index violation (SQLSTATE 23505) on `constraint`, however deep the driver wrapped it. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth += 1) {
    const fields = e as {
      code?: unknown;
      constraint?: unknown;
      constraint_name?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    const named =
      fields.constraint === constraint ||
      fields.constraint_name === constraint ||
      (typeof fields.message === 'string' && fields.message.includes(constraint));
    if (fields.code === '23505' && named) return true;
    e = fields.cause;
  }
  return false;
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
    if (!view || !metadata) return;
    try {
      const template = await getTemplate(deps.db, Number(action.selected_option?.value));
      if (!template) return;
      const ticket = await getTicketView(deps.db, metadata.ticketId);
      const next = rebuildReplyModal(view, renderTemplate(template.body, templateValuesFor(ticket)), {
        replaceText: true,
      });
      if (next) await updateViewIfUnchanged(deps, client, view, next);
    } catch (err) {
      deps.logger.error({ err, ticketId: metadata.ticketId }, 'could not fill the Reply modal from a template');
    }
  });

  app.view<ViewSubmitAction>(VIEWS.reply, async ({ ack, body, view }) => {
    const metadata = readReplyMetadata(view.private_metadata);
    if (!metadata) {
      deps.logger.error({ viewId: view.id }, 'Reply modal submitted without its metadata');
      await ack();
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
        try {
          await recordReply(deps.db, actor, {
            ticketId: metadata.ticketId,
            text: plan.text,
            parts: plan.parts,
            idempotencyKey: view.id,
          });
        } catch (err) {
          // Two deliveries of one submission at the same moment: the other one recorded the reply.
          if (!isUniqueViolation(err, 'replies_idempotency_key')) throw err;
        }
      },
    });
    if (done) deps.wakeDelivery();
  });
}
