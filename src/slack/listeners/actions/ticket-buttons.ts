import type { App, BlockAction } from '@slack/bolt';
import { claimTicket, reopenTicket, resolveTicket, unclaimTicket } from '../../../tickets/actions.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS } from '../../ids.js';
import { ticketAction } from './ticket-action.js';

/** Claim, Unclaim, Resolve, Reopen: the card buttons that change a ticket without a modal. */
export function register(app: App, deps: SlackDeps): void {
  const { db } = deps;
  app.action<BlockAction>(
    ACTIONS.claim,
    ticketAction(deps, 'claim', (actor, ticketId) => claimTicket(db, actor, { ticketId })),
  );
  app.action<BlockAction>(
    ACTIONS.unclaim,
    ticketAction(deps, 'unclaim', (actor, ticketId) => unclaimTicket(db, actor, { ticketId })),
  );
  app.action<BlockAction>(
    ACTIONS.resolve,
    ticketAction(deps, 'resolve', (actor, ticketId) => resolveTicket(db, actor, { ticketId })),
  );
  app.action<BlockAction>(
    ACTIONS.reopen,
    ticketAction(deps, 'reopen', (actor, ticketId) => reopenTicket(db, actor, { ticketId })),
  );
}
