import type { App, ViewSubmitAction } from '@slack/bolt';
import { tagTicket, untagTicket } from '../../../tickets/actions.js';
import { normalizeTags } from '../../../tickets/tags.js';
import { parseNewTags } from '../../blocks/modals/tag.js';
import { decodeMetadata } from '../../blocks/view-parts.js';
import type { SlackDeps } from '../../deps.js';
import { BLOCKS, INPUTS, VIEWS } from '../../ids.js';
import { submitOrShowErrors } from './submit.js';

type Values = Record<string, Record<string, { value?: string | null; selected_options?: { value: string }[] }>>;

/** Tag modal submission: adds what was picked or typed, removes what was deselected. */
export function register(app: App, deps: SlackDeps): void {
  app.view<ViewSubmitAction>(VIEWS.tag, async ({ ack, body, view }) => {
    const metadata = decodeMetadata(view.private_metadata);
    const ticketId = Number(metadata.ticketId);
    const shown = Array.isArray(metadata.shown) ? metadata.shown.filter((t): t is string => typeof t === 'string') : [];
    const values = view.state.values as Values;
    const selected = (values[BLOCKS.tagSelect]?.[INPUTS.value]?.selected_options ?? []).map((o) => o.value);
    const typed = parseNewTags(values[BLOCKS.tagNew]?.[INPUTS.value]?.value);
    const done = await submitOrShowErrors(ack, deps.logger, {
      context: { modal: 'tag', ticketId, userId: body.user.id },
      defaultBlock: BLOCKS.tagNew,
      run: async () => {
        // Typed tags are checked first, so a bad one changes nothing.
        const wanted = [...new Set([...selected, ...normalizeTags(typed)])];
        const removed = shown.filter((tag) => !selected.includes(tag));
        const actor = await deps.resolveActor(body.user.id);
        if (wanted.length > 0) await tagTicket(deps.db, actor, { ticketId, tags: wanted });
        if (removed.length > 0) await untagTicket(deps.db, actor, { ticketId, tags: removed });
      },
    });
    if (done) deps.wakeDelivery();
  });
}
