import type { App, ViewSubmitAction } from '@slack/bolt';
import { assignTicket } from '../../../tickets/actions.js';
import { decodeMetadata } from '../../blocks/view-parts.js';
import type { SlackDeps } from '../../deps.js';
import { BLOCKS, INPUTS, VIEWS } from '../../ids.js';
import { submitOrShowErrors } from './submit.js';

/** Assign modal submission. */
export function register(app: App, deps: SlackDeps): void {
  app.view<ViewSubmitAction>(VIEWS.assign, async ({ ack, body, view }) => {
    const ticketId = Number(decodeMetadata(view.private_metadata).ticketId);
    const values = view.state.values as Record<string, Record<string, { selected_user?: string | null }>>;
    const assignee = values[BLOCKS.assignUser]?.[INPUTS.value]?.selected_user ?? '';
    const done = await submitOrShowErrors(ack, deps.logger, {
      context: { modal: 'assign', ticketId, userId: body.user.id },
      defaultBlock: BLOCKS.assignUser,
      run: async () => {
        const actor = await deps.resolveActor(body.user.id);
        await assignTicket(deps.db, actor, { ticketId, assignee });
      },
    });
    if (done) deps.wakeDelivery();
  });
}
