import type { KnownBlock } from '@slack/types';
import { AppError } from '../../errors.js';
import { getTicketView, getTimeline } from '../../tickets/queries.js';
import { plural } from '../blocks/format.js';
import { LIMITS } from '../blocks/limits.js';
import { buildThreadLine } from '../blocks/thread-line.js';
import { buildTicketCard, TICKET_ACTIONS_BLOCK_PREFIX } from '../blocks/ticket-card.js';
import { readCardSla } from '../card-sla.js';
import type { Subcommand } from './types.js';

const TIMELINE_EVENTS = 30;

/** Timeline lines packed into as few sections as fit, newest last. */
function timelineBlocks(lines: string[], room: number): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  let current = '';
  for (const line of lines) {
    const next = current ? `${current}\n${line}` : line;
    if (next.length > LIMITS.sectionText && current) {
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
      current = line.slice(0, LIMITS.sectionText);
    } else current = next.slice(0, LIMITS.sectionText);
  }
  if (current) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
  return blocks.slice(-room);
}

/** Reads `42`, `#42`; anything else is an input error. */
export function parseTicketId(args: string): number {
  const match = /^#?(\d{1,9})$/.exec(args.trim());
  if (!match) throw new AppError('invalid_input', 'Give a ticket number: `/earshot ticket 42`.');
  return Number(match[1]);
}

/** `ticket <id>`: the ticket's card (without its buttons) and its timeline. */
export const ticketCommand: Subcommand = {
  name: 'ticket',
  usage: 'ticket <id>',
  summary: 'a ticket’s card and timeline',
  permission: 'ticket.view',
  shareable: true,
  run: async ({ db, config, args }) => {
    const id = parseTicketId(args);
    const view = await getTicketView(db, id);
    const events = await getTimeline(db, id);
    const now = new Date();
    const slaClocks = await readCardSla(db, view.ticket, now);
    const card = buildTicketCard(view, { now, maskPii: config.EARSHOT_MASK_PII, slaClocks });
    const cardBlocks = card.blocks.filter(
      (block) => !('block_id' in block && block.block_id?.startsWith(TICKET_ACTIONS_BLOCK_PREFIX)),
    );
    const recent = events.slice(-TIMELINE_EVENTS);
    const lines = recent.map((event) => {
      const at = Math.floor(event.createdAt.getTime() / 1000);
      return `<!date^${at}^{date_short} {time}|${event.createdAt.toISOString()}> ${buildThreadLine(event)}`;
    });
    const header: KnownBlock = {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text:
            events.length > recent.length
              ? `*Timeline* (last ${recent.length} of ${events.length} events)`
              : `*Timeline* (${plural(events.length, 'event')})`,
        },
      ],
    };
    const room = LIMITS.messageBlocks - cardBlocks.length - 2;
    return {
      text: card.text,
      blocks: [...cardBlocks, { type: 'divider' }, header, ...timelineBlocks(lines, room)],
    };
  },
};
