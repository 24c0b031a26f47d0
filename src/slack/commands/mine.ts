import { getTicketExcerpts } from '../../reports/excerpts.js';
import { countAssignedTickets, listAssignedTickets } from '../../tickets/queries.js';
import { buildTicketListMessage } from '../blocks/ticket-list.js';
import type { Subcommand } from './types.js';

const LIMIT = 25;

/** `mine`: the caller's open tickets, most urgent first. */
export const mineCommand: Subcommand = {
  name: 'mine',
  usage: 'mine',
  summary: 'your open tickets',
  permission: 'ticket.view',
  shareable: true,
  run: async ({ db, config, userId }) => {
    const tickets = await listAssignedTickets(db, userId, { limit: LIMIT });
    const total = tickets.length < LIMIT ? tickets.length : await countAssignedTickets(db, userId);
    const excerpts = await getTicketExcerpts(
      db,
      tickets.map((t) => t.id),
    );
    return buildTicketListMessage('Your open tickets', tickets, excerpts, {
      now: new Date(),
      total,
      maskPii: config.EARSHOT_MASK_PII,
      empty: 'You hold no open tickets.',
    });
  },
};
