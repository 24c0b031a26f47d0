import { getTicketExcerpts } from '../../reports/excerpts.js';
import { listAssignedTickets } from '../../tickets/queries.js';
import { buildTicketListMessage } from '../blocks/ticket-list.js';
import type { Subcommand } from './types.js';

/** `mine`: the caller's open tickets, most urgent first. */
export const mineCommand: Subcommand = {
  name: 'mine',
  usage: 'mine',
  summary: 'your open tickets',
  permission: 'ticket.view',
  shareable: true,
  run: async ({ db, config, userId }) => {
    const tickets = await listAssignedTickets(db, userId, { limit: 25 });
    const excerpts = await getTicketExcerpts(
      db,
      tickets.map((t) => t.id),
    );
    return buildTicketListMessage('Your open tickets', tickets, excerpts, {
      now: new Date(),
      maskPii: config.EARSHOT_MASK_PII,
      empty: 'You hold no open tickets.',
    });
  },
};
