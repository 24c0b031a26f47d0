import type { App, BlockAction } from '@slack/bolt';
import { AppError } from '../../../errors.js';
import { closeTicket, markSpam } from '../../../tickets/actions.js';
import { requirePermission } from '../../../tickets/permissions.js';
import { getTicket } from '../../../tickets/queries.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS, OVERFLOW_OPTIONS } from '../../ids.js';
import { tellUser } from '../tell-user.js';
import { overflowOption, tellTarget, ticketAction } from './ticket-action.js';

/** The overflow options that need no modal: Mark as spam, Close, Copy link. */
export function register(app: App, deps: SlackDeps): void {
  const { db } = deps;
  app.action<BlockAction>(
    ACTIONS.overflow,
    overflowOption(OVERFLOW_OPTIONS.spam),
    ticketAction(deps, 'spam', (actor, ticketId) => markSpam(db, actor, { ticketId })),
  );
  app.action<BlockAction>(
    ACTIONS.overflow,
    overflowOption(OVERFLOW_OPTIONS.close),
    ticketAction(deps, 'close', (actor, ticketId) => closeTicket(db, actor, { ticketId })),
  );
  app.action<BlockAction>(
    ACTIONS.overflow,
    overflowOption(OVERFLOW_OPTIONS.copyLink),
    ticketAction(deps, 'copy_link', async (actor, ticketId, args) => {
      requirePermission(actor, 'ticket.view');
      const ticket = await getTicket(db, ticketId);
      if (!ticket?.slackTs) throw new AppError('not_found', `Ticket #${ticketId} has no card in Slack yet.`);
      const { permalink } = await args.client.chat.getPermalink({
        channel: ticket.channel,
        message_ts: ticket.slackTs,
      });
      await tellUser(tellTarget(args), `Link to ticket #${ticket.id}: ${permalink ?? '(Slack gave no link)'}`);
    }),
  );
}
