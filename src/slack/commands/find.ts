import { AppError } from '../../errors.js';
import { getTicketExcerpts } from '../../reports/excerpts.js';
import { findTickets } from '../../tickets/queries.js';
import { buildTicketListMessage } from '../blocks/ticket-list.js';
import { safeMrkdwn } from '../mrkdwn.js';
import { unescapeCustomerWords } from './customer-words.js';
import type { Subcommand } from './types.js';

/** Tickets one answer lists. */
const SHOWN = 20;

/** `find <text|@handle|#id>`: searches tickets, newest first. */
export const findCommand: Subcommand = {
  name: 'find',
  usage: 'find <text|@handle|#id>',
  summary: 'search tickets by text, customer handle or ticket number',
  permission: 'ticket.view',
  shareable: true,
  run: async ({ db, config, args }) => {
    const query = unescapeCustomerWords(args);
    if (!query)
      throw new AppError('invalid_input', 'Say what to find: `/earshot find refund`, `find @dana` or `find #42`.');
    // One more than is shown, to know whether the list is all there is without counting every match.
    const found = await findTickets(db, query, { limit: SHOWN + 1 });
    const tickets = found.slice(0, SHOWN);
    const excerpts = await getTicketExcerpts(
      db,
      tickets.map((t) => t.id),
    );
    const message = buildTicketListMessage(`Tickets matching “${safeMrkdwn(query, 80)}”`, tickets, excerpts, {
      now: new Date(),
      maskPii: config.EARSHOT_MASK_PII,
      empty: query.replace(/^#/, '').match(/^\d+$/) ? 'No ticket has that number.' : 'Nothing matches.',
    });
    if (found.length <= SHOWN) return message;
    const more = `These are the ${SHOWN} newest; more tickets match. Add words, or search by \`@handle\`, to narrow it.`;
    return {
      text: `${message.text} (the ${SHOWN} newest; more match)`,
      blocks: [...message.blocks, { type: 'context', elements: [{ type: 'mrkdwn', text: more }] }],
    };
  },
};
