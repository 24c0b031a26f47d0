import { AppError } from '../../errors.js';
import { getTicketExcerpts } from '../../reports/excerpts.js';
import { findTickets } from '../../tickets/queries.js';
import { buildTicketListMessage } from '../blocks/ticket-list.js';
import { safeMrkdwn } from '../mrkdwn.js';
import { unescapeCustomerWords } from './customer-words.js';
import type { Subcommand } from './types.js';

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
    const tickets = await findTickets(db, query, { limit: 20 });
    const excerpts = await getTicketExcerpts(
      db,
      tickets.map((t) => t.id),
    );
    return buildTicketListMessage(`Tickets matching “${safeMrkdwn(query, 80)}”`, tickets, excerpts, {
      now: new Date(),
      maskPii: config.EARSHOT_MASK_PII,
      empty: query.replace(/^#/, '').match(/^\d+$/) ? 'No ticket has that number.' : 'Nothing matches.',
    });
  },
};
