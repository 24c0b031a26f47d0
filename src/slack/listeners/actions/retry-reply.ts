import type { App, BlockAction } from '@slack/bolt';
import { AppError } from '../../../errors.js';
import { retryReply } from '../../../replies/retry.js';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS } from '../../ids.js';
import { reportFailure } from '../tell-user.js';
import { tellTarget } from './ticket-action.js';

/** The card's Retry reply button (shown when a reply failed): its value is the reply's id. */
export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction>(ACTIONS.retryReply, async (args) => {
    await args.ack();
    const { body, action } = args;
    const value = action.type === 'button' ? (action.value ?? '') : '';
    try {
      if (!/^\d{1,10}$/.test(value)) throw new AppError('not_found', 'This button does not point at a reply.');
      const actor = await deps.resolveActor(body.user.id);
      await retryReply(deps.db, actor, Number(value));
      deps.wakeDelivery();
    } catch (err) {
      await reportFailure(err, tellTarget(args), deps.logger.child({ component: 'slack-actions' }), {
        action: 'retry_reply',
        userId: body.user.id,
        replyId: value,
      });
    }
  });
}
