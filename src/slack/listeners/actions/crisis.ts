import type { App, BlockAction } from '@slack/bolt';
import { routingFromConfig } from '../../../crisis/job.js';
import { acknowledgeAlert, declareIncident, resolveAlert, snoozeAlert } from '../../../crisis/respond.js';
import { AppError } from '../../../errors.js';
import type { Actor } from '../../../tickets/types.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS } from '../../ids.js';
import { reportFailure } from '../tell-user.js';
import { type BlockActionArgs, tellTarget } from './ticket-action.js';

type Perform = (actor: Actor, alertId: number, deps: SlackDeps) => Promise<unknown>;

/** The crisis card's buttons; each carries the alert id as its value. */
const HANDLERS: Record<string, Perform> = {
  [ACTIONS.crisisAcknowledge]: (actor, alertId, deps) =>
    acknowledgeAlert(deps.db, actor, { alertId, routing: routingFromConfig(deps.config) }),
  [ACTIONS.crisisIncident]: (actor, alertId, deps) =>
    declareIncident(deps.db, actor, { alertId, routing: routingFromConfig(deps.config) }),
  [ACTIONS.crisisSnooze]: (actor, alertId, deps) =>
    snoozeAlert(deps.db, actor, { alertId, routing: routingFromConfig(deps.config) }),
  [ACTIONS.crisisResolve]: (actor, alertId, deps) =>
    resolveAlert(deps.db, actor, { alertId, routing: routingFromConfig(deps.config) }),
};

/**
 * Acknowledge, Declare incident, Snooze 30 min and Resolve on a crisis alert: ack, one domain call
 * (which queues the card update in its transaction), wake the delivery worker.
 */
export function register(app: App, deps: SlackDeps): void {
  for (const [actionId, perform] of Object.entries(HANDLERS)) {
    app.action<BlockAction>(actionId, async (args: BlockActionArgs) => {
      await args.ack();
      const userId = args.body.user.id;
      const value = args.action.type === 'button' ? args.action.value : undefined;
      try {
        if (!value || !/^\d{1,10}$/.test(value)) {
          throw new AppError('not_found', 'This button does not point at a crisis alert Earshot knows.');
        }
        const actor = await deps.resolveActor(userId);
        await perform(actor, Number(value), deps);
        deps.wakeDelivery();
      } catch (err) {
        await reportFailure(err, tellTarget(args), deps.logger.child({ component: 'slack-actions' }), {
          action: actionId,
          userId,
          alertId: value,
        });
      }
    });
  }
}
