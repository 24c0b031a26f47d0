import { getTicketExcerpts } from '../../reports/excerpts.js';
import { countOpenQueue, listOpenQueue } from '../../tickets/queries.js';
import { buildTicketListMessage } from '../blocks/ticket-list.js';
import type { Subcommand } from './types.js';

const LIMIT = 25;

/** `queue`: open tickets, unclaimed first, then by priority and age. */
export const queueCommand: Subcommand = {
  name: 'queue',
  usage: 'queue',
  summary: 'open tickets by priority and age, unclaimed first',
  permission: 'ticket.view',
  shareable: true,
  run: async ({ db, config }) => {
    const tickets = await listOpenQueue(db, { limit: LIMIT });
    const total = tickets.length < LIMIT ? tickets.length : await countOpenQueue(db);
    const excerpts = await getTicketExcerpts(
      db,
      tickets.map((t) => t.id),
    );
    return buildTicketListMessage('Open queue', tickets, excerpts, {
      now: new Date(),
      total,
      maskPii: config.EARSHOT_MASK_PII,
      empty: 'No open tickets. :tada:',
    });
  },
};
