import type { App, ViewSubmitAction } from '@slack/bolt';
import { escalateTicket } from '../../../tickets/actions.js';
import { parseTier } from '../../blocks/modals/escalate.js';
import { decodeMetadata } from '../../blocks/view-parts.js';
import type { SlackDeps } from '../../deps.js';
import { describeTargets, queueEscalationNotices } from '../../escalation-notice.js';
import { BLOCKS, INPUTS, VIEWS } from '../../ids.js';
import { ackErrors, submitOrShowErrors } from './submit.js';

type Values = Record<
  string,
  Record<
    string,
    { value?: string | null; selected_option?: { value: string } | null; selected_conversation?: string | null }
  >
>;

/** Escalate modal submission: tier and reason recorded, then the chosen channel / user group notified. */
export function register(app: App, deps: SlackDeps): void {
  app.view<ViewSubmitAction>(VIEWS.escalate, async ({ ack, body, view }) => {
    const ticketId = Number(decodeMetadata(view.private_metadata).ticketId);
    const values = view.state.values as Values;
    const tier = parseTier(values[BLOCKS.escalateTier]?.[INPUTS.value]?.selected_option?.value);
    const reason = values[BLOCKS.escalateReason]?.[INPUTS.value]?.value?.trim() ?? '';
    const errors: Record<string, string> = {};
    if (tier === null) errors[BLOCKS.escalateTier] = 'Pick tier 1, 2 or 3.';
    if (!reason) errors[BLOCKS.escalateReason] = 'Say why the ticket is escalated.';
    if (tier === null || !reason) {
      await ackErrors(ack, errors);
      return;
    }
    const targets = {
      channel: values[BLOCKS.escalateNotify]?.[INPUTS.value]?.selected_conversation ?? null,
      userGroup: values[BLOCKS.escalateNotifyGroup]?.[INPUTS.value]?.selected_option?.value ?? null,
    };
    const done = await submitOrShowErrors(ack, deps.logger, {
      context: { modal: 'escalate', ticketId, userId: body.user.id },
      defaultBlock: BLOCKS.escalateReason,
      fieldBlocks: { tier: BLOCKS.escalateTier, reason: BLOCKS.escalateReason },
      run: async () => {
        const actor = await deps.resolveActor(body.user.id);
        // The notices are written in the escalation's transaction (a savepoint inside it), as the outbox contract asks.
        await deps.db.transaction(async (tx) => {
          const { ticket, event } = await escalateTicket(tx, actor, {
            ticketId,
            tier,
            reason,
            notify: describeTargets(targets),
          });
          if (event) await queueEscalationNotices(tx, { ticket, event, actorUserId: body.user.id, targets });
        });
      },
    });
    if (done) deps.wakeDelivery();
  });
}
