import type { HomeView, KnownBlock } from '@slack/types';
import type { TicketExcerpt } from '../../reports/excerpts.js';
import type { PersonalQueue } from '../../reports/personal-queue.js';
import type { Ticket } from '../../tickets/types.js';
import { ACTIONS } from '../ids.js';
import { buildTicketList } from './ticket-list.js';
import { capBlocks, plain, VIEW_LIMITS } from './view-parts.js';

export interface HomeInput {
  queue: PersonalQueue;
  excerpts: ReadonlyMap<number, TicketExcerpt>;
  maskPii: boolean;
}

const note = (text: string) => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] }) as KnownBlock;

/**
 * The App Home tab: SLA warnings first (what is about to go wrong), then the user's own tickets,
 * then the unclaimed queue by priority; a refresh button on top. Each ticket has an Open button.
 * A header counts the whole list; a list cut to its first tickets says so, and where the rest are.
 */
export function buildHomeView(input: HomeInput): HomeView {
  const { queue } = input;
  const section = (title: string, tickets: Ticket[], total: number, cut: string, empty: string): KnownBlock[] => {
    const whole = Math.max(total, tickets.length);
    const header: KnownBlock = { type: 'header', text: plain(`${title} (${whole})`, 150) };
    if (tickets.length === 0) return [header, note(empty)];
    const lines = buildTicketList(tickets, input.excerpts, {
      now: queue.now,
      openButton: true,
      maskPii: input.maskPii,
    });
    return [
      header,
      ...lines,
      ...(whole > tickets.length
        ? [note(cut.replace('{n}', String(tickets.length)).replace('{total}', String(whole)))]
        : []),
    ];
  };
  const { totals } = queue;
  const updated = `<!date^${Math.floor(queue.now.getTime() / 1000)}^Updated {time}|Updated ${queue.now.toISOString()}>`;
  const blocks: KnownBlock[] = [
    {
      type: 'actions',
      elements: [{ type: 'button', action_id: ACTIONS.homeRefresh, text: plain('Refresh', 75), value: 'refresh' }],
    },
    note(updated),
    ...section(
      'SLA warnings',
      queue.slaWarnings,
      totals.slaWarnings,
      'The {n} due soonest of {total}.',
      'No ticket is near an SLA deadline.',
    ),
    { type: 'divider' },
    ...section(
      'My tickets',
      queue.mine,
      totals.mine,
      'The {n} most urgent of {total}; `/earshot mine` lists more.',
      'You hold no open tickets.',
    ),
    { type: 'divider' },
    ...section(
      'Unclaimed queue',
      queue.unclaimed,
      totals.unclaimed,
      'The {n} most urgent of {total}; `/earshot queue` lists more.',
      'The queue is empty. :tada:',
    ),
  ];
  return { type: 'home', blocks: capBlocks(blocks, VIEW_LIMITS.blocks, 'tickets') };
}
