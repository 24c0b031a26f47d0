import type { App, BlockAction } from '@slack/bolt';
import { isAppError } from '../../../errors.js';
import { claimTicket, reopenTicket, resolveTicket, unclaimTicket } from '../../../tickets/actions.js';
import type { TicketStatus } from '../../../tickets/types.js';
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
    ticketAction(deps, 'resolve', (actor, ticketId) => resolveTicket(db, actor, { ticketId }), {
      isAlreadySo: refusedBecause('resolve', ['resolved', 'closed']),
      say: (ticketId) => `Ticket #${ticketId} is already resolved.`,
    }),
  );
  app.action<BlockAction>(
    ACTIONS.reopen,
    ticketAction(deps, 'reopen', (actor, ticketId) => reopenTicket(db, actor, { ticketId }), {
      isAlreadySo: refusedBecause('reopen', ['new', 'claimed', 'waiting']),
      say: (ticketId) => `Ticket #${ticketId} is already open.`,
    }),
  );
}

/**
 * A lifecycle refusal of `action` because the ticket already is where the click wanted it: the
 * other of two clicks won. (Resolve and Reopen are no-ops on a ticket already so; this covers a
 * domain that still refuses them.)
 */
function refusedBecause(action: string, statuses: readonly TicketStatus[]) {
  return (err: unknown): boolean =>
    isAppError(err) &&
    err.code === 'invalid_transition' &&
    err.details.action === action &&
    statuses.includes(err.details.status as TicketStatus);
}
