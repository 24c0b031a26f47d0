import type { AllMiddlewareArgs, BlockAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Database } from '../../../db/database.js';
import { AppError } from '../../../errors.js';
import { addLogContext } from '../../../observability/log-context.js';
import { getTicketBySlackMessage } from '../../../tickets/queries.js';
import type { Actor } from '../../../tickets/types.js';
import { ticketIdFromBlockId } from '../../blocks/ticket-card.js';
import type { SlackDeps } from '../../deps.js';
import { reportFailure, type TellUserTarget, tellUser } from '../tell-user.js';

export type BlockActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

/**
 * The ticket a card's element belongs to: a button carries the id as its value; the overflow menu
 * (whose option values are fixed, see OVERFLOW_OPTIONS) is found by its block id, then by the message.
 */
export async function ticketIdOfAction(
  db: Database,
  args: Pick<BlockActionArgs, 'body' | 'action'>,
): Promise<number | null> {
  const { action, body } = args;
  if (action.type === 'button' && /^\d{1,10}$/.test(action.value ?? '')) return Number(action.value);
  const fromBlock = ticketIdFromBlockId(action.block_id);
  if (fromBlock !== null) return fromBlock;
  const channel = body.channel?.id;
  const ts = body.message?.ts;
  if (!channel || !ts) return null;
  return (await getTicketBySlackMessage(db, channel, ts))?.id ?? null;
}

/** Where to tell the clicking user something: the channel of the card, else the response URL. */
export function tellTarget(args: Pick<BlockActionArgs, 'body' | 'client' | 'respond'>): TellUserTarget {
  return {
    client: args.client,
    userId: args.body.user.id,
    channelId: args.body.channel?.id,
    respond: (message) => args.respond(message),
  };
}

/** What a repeated click (a double click, a second tab) is told when it changed nothing. */
export interface UnchangedSpec {
  /** A refusal that only says the ticket is already where the click wanted it (the other click won). */
  isAlreadySo?: (err: unknown) => boolean;
  /** The quiet ephemeral line, e.g. "Ticket #42 is already resolved."; null says nothing at all. */
  say: ((ticketId: number) => string) | null;
}

/**
 * A card element that changes a ticket: ack at once, resolve the actor, make the one domain call,
 * wake the delivery worker (the card refresh and thread line were queued in the same transaction).
 * Refusals and faults become an ephemeral message and a log line with the context. With
 * `unchanged`, a call that changed nothing (`{ event: null }`, or a refusal `isAlreadySo` accepts)
 * is a repeat of a click that already worked: no error, at most a quiet line.
 */
export function ticketAction(
  deps: SlackDeps,
  name: string,
  perform: (actor: Actor, ticketId: number, args: BlockActionArgs) => Promise<unknown>,
  unchanged?: UnchangedSpec,
) {
  return async (args: BlockActionArgs): Promise<void> => {
    await args.ack();
    const userId = args.body.user.id;
    let ticketId: number | null = null;
    try {
      ticketId = await ticketIdOfAction(deps.db, args);
      addLogContext({ ticketId: ticketId ?? undefined });
      if (ticketId === null) throw new AppError('not_found', 'This card does not point at a ticket Earshot knows.');
      const actor = await deps.resolveActor(userId);
      let result: unknown;
      try {
        result = await perform(actor, ticketId, args);
      } catch (err) {
        if (!unchanged?.isAlreadySo?.(err)) throw err;
        result = { event: null };
      }
      if (unchanged && (result as { event?: unknown } | null)?.event === null) {
        if (unchanged.say) await tellUser(tellTarget(args), unchanged.say(ticketId));
        return;
      }
      deps.wakeDelivery();
    } catch (err) {
      await reportFailure(err, tellTarget(args), deps.logger.child({ component: 'slack-actions' }), {
        action: name,
        userId,
        ticketId,
        channel: args.body.channel?.id,
      });
    }
  };
}

/**
 * Lets several listeners share the card's one overflow `action_id`: each handles only its own
 * option values, so exactly one of them acks. Slack B's modal openers use it for assign, correct
 * and full text: `app.action(ACTIONS.overflow, overflowOption(OVERFLOW_OPTIONS.assign), handler)`.
 */
export function overflowOption(
  ...values: string[]
): Middleware<SlackActionMiddlewareArgs<BlockAction>> & { overflowValues: readonly string[] } {
  const middleware: Middleware<SlackActionMiddlewareArgs<BlockAction>> = async ({ action, next }) => {
    if (action.type === 'overflow' && values.includes(action.selected_option.value)) await next();
  };
  // The manifest test reads which options have a listener from here.
  return Object.assign(middleware, { overflowValues: values as readonly string[] });
}
