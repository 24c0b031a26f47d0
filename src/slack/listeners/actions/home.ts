import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { SlackDeps } from '../../deps.js';
import { ACTIONS } from '../../ids.js';
import { publishHome } from '../events/app-home-opened.js';
import { modalOpenerListener } from '../modal-opener.js';
import { reportFailure } from '../tell-user.js';
import { openFullTextModal } from './open-full-text.js';

/** App Home buttons: Refresh re-publishes the tab; Open shows a ticket's whole conversation. */
export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTIONS.homeRefresh, async ({ ack, body, client }) => {
    await ack();
    try {
      await publishHome(deps, client, body.user.id);
    } catch (err) {
      await reportFailure(err, { client, userId: body.user.id }, deps.logger, {
        action: ACTIONS.homeRefresh,
      });
    }
  });
  app.action<BlockAction>(ACTIONS.homeOpenTicket, modalOpenerListener(deps, openFullTextModal));
}
