import type { App, BlockAction } from '@slack/bolt';
import { requirePermission } from '../../../tickets/permissions.js';
import { buildDigestModal, decodeDigestValue } from '../../blocks/digest-card.js';
import type { SlackDeps } from '../../deps.js';
import { listDigestEntries } from '../../digest.js';
import { ACTIONS } from '../../ids.js';
import { reportFailure } from '../tell-user.js';
import { tellTarget } from './ticket-action.js';

/** The digest card's button: a modal listing the tickets the digest stands for. */
export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction>(ACTIONS.openDigest, async (args) => {
    await args.ack();
    const { body, action, client } = args;
    try {
      const actor = await deps.resolveActor(body.user.id);
      requirePermission(actor, 'ticket.view');
      const ids = decodeDigestValue(action.type === 'button' ? action.value : undefined);
      const entries = await listDigestEntries(deps.db, ids);
      await client.views.open({ trigger_id: body.trigger_id, view: buildDigestModal(entries, ids.length) });
    } catch (err) {
      await reportFailure(err, tellTarget(args), deps.logger.child({ component: 'slack-actions' }), {
        action: 'digest_open',
        userId: body.user.id,
      });
    }
  });
}
