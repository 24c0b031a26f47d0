import type { App, ViewSubmitAction } from '@slack/bolt';
import { correctTriage } from '../../../tickets/actions.js';
import { parseCorrection } from '../../blocks/modals/correct.js';
import { decodeMetadata } from '../../blocks/view-parts.js';
import type { SlackDeps } from '../../deps.js';
import { BLOCKS, INPUTS, VIEWS } from '../../ids.js';
import { submitOrShowErrors } from './submit.js';

type Values = Record<string, Record<string, { selected_option?: { value: string } | null }>>;

/** "Correct triage" modal submission: only changed fields are recorded (as a `corrected` event). */
export function register(app: App, deps: SlackDeps): void {
  app.view<ViewSubmitAction>(VIEWS.correct, async ({ ack, body, view }) => {
    const ticketId = Number(decodeMetadata(view.private_metadata).ticketId);
    const values = view.state.values as Values;
    const read = (block: string) => values[block]?.[INPUTS.value]?.selected_option?.value ?? null;
    const correction = parseCorrection({
      category: read(BLOCKS.correctCategory),
      sentiment: read(BLOCKS.correctSentiment),
      priority: read(BLOCKS.correctPriority),
    });
    const done = await submitOrShowErrors(ack, deps.logger, {
      context: { modal: 'correct', ticketId, userId: body.user.id },
      defaultBlock: BLOCKS.correctCategory,
      run: async () => {
        const actor = await deps.resolveActor(body.user.id);
        await correctTriage(deps.db, actor, { ticketId, correction });
      },
    });
    if (done) deps.wakeDelivery();
  });
}
