import type { App, BlockAction } from '@slack/bolt';
import type { View } from '@slack/types';
import type { Database } from '../../../db/database.js';
import { AppError } from '../../../errors.js';
import { requirePermission } from '../../../tickets/permissions.js';
import { buildDigestModal, DIGEST_PAGE_SIZE, type DigestRef, decodeDigestValue } from '../../blocks/digest-card.js';
import type { SlackDeps } from '../../deps.js';
import { getDigest, listDigestEntries } from '../../digest.js';
import { ACTIONS } from '../../ids.js';
import { reportFailure } from '../tell-user.js';
import { tellTarget } from './ticket-action.js';

/** One page of a digest as a modal; the digest's ticket ids come from Postgres, not the button. */
async function digestPage(db: Database, ref: DigestRef, maskPii: boolean): Promise<View> {
  const digest = await getDigest(db, ref.digestId);
  if (!digest) throw new AppError('not_found', 'This digest is no longer stored; `/earshot queue` lists open tickets.');
  const offset = Math.min(ref.offset, Math.max(0, digest.ticketIds.length - 1));
  const entries = await listDigestEntries(db, digest.ticketIds, { offset, limit: DIGEST_PAGE_SIZE });
  return buildDigestModal({ digestId: ref.digestId, entries, total: digest.ticketIds.length, offset, maskPii });
}

function refOf(action: BlockAction['actions'][number]): DigestRef {
  const ref = decodeDigestValue(action.type === 'button' ? action.value : undefined);
  if (!ref) throw new AppError('invalid_input', 'This button does not point at a digest Earshot knows.');
  return ref;
}

/**
 * The digest card's button opens a modal listing the tickets the digest stands for, a page at a
 * time; the modal's Previous/Next buttons move through the pages in place (views.update).
 */
export function register(app: App, deps: SlackDeps): void {
  const log = deps.logger.child({ component: 'slack-actions' });
  app.action<BlockAction>(ACTIONS.openDigest, async (args) => {
    await args.ack();
    const { body, action, client } = args;
    try {
      const actor = await deps.resolveActor(body.user.id);
      requirePermission(actor, 'ticket.view');
      const view = await digestPage(deps.db, refOf(action), deps.config.EARSHOT_MASK_PII);
      await client.views.open({ trigger_id: body.trigger_id, view });
    } catch (err) {
      await reportFailure(err, tellTarget(args), log, { action: ACTIONS.openDigest, userId: body.user.id });
    }
  });

  app.action<BlockAction>(ACTIONS.digestPage, async (args) => {
    await args.ack();
    const { body, action, client } = args;
    try {
      const actor = await deps.resolveActor(body.user.id);
      requirePermission(actor, 'ticket.view');
      if (!body.view?.id) throw new AppError('invalid_input', 'Paging works only inside the digest modal.');
      const view = await digestPage(deps.db, refOf(action), deps.config.EARSHOT_MASK_PII);
      await client.views.update({ view_id: body.view.id, view });
    } catch (err) {
      await reportFailure(err, { client, userId: body.user.id }, log, {
        action: ACTIONS.digestPage,
        userId: body.user.id,
      });
    }
  });
}
