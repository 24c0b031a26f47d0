import type { HomeView, KnownBlock } from '@slack/types';
import type { TicketExcerpt } from '../../reports/excerpts.js';
import type { PersonalQueue } from '../../reports/personal-queue.js';
import { ACTIONS } from '../ids.js';
import { buildTicketList } from './ticket-list.js';
import { capBlocks, plain, VIEW_LIMITS } from './view-parts.js';

export interface HomeInput {
  queue: PersonalQueue;
  excerpts: ReadonlyMap<number, TicketExcerpt>;
  maskPii: boolean;
}

function section(title: string, empty: string, blocks: KnownBlock[]): KnownBlock[] {
  return [
    { type: 'header', text: plain(title, 150) },
    ...(blocks.length > 0 ? blocks : [{ type: 'context', elements: [{ type: 'mrkdwn', text: empty }] } as KnownBlock]),
  ];
}

/**
 * The App Home tab: SLA warnings first (what is about to go wrong), then the user's own tickets,
 * then the unclaimed queue by priority; a refresh button on top. Each ticket has an Open button.
 */
export function buildHomeView(input: HomeInput): HomeView {
  const { queue } = input;
  const list = (tickets: PersonalQueue['mine']) =>
    buildTicketList(tickets, input.excerpts, { now: queue.now, openButton: true, maskPii: input.maskPii });
  const updated = `<!date^${Math.floor(queue.now.getTime() / 1000)}^Updated {time}|Updated ${queue.now.toISOString()}>`;
  const blocks: KnownBlock[] = [
    {
      type: 'actions',
      elements: [{ type: 'button', action_id: ACTIONS.homeRefresh, text: plain('Refresh', 75), value: 'refresh' }],
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: updated }] },
    ...section(
      `SLA warnings (${queue.slaWarnings.length})`,
      'No ticket is near an SLA deadline.',
      list(queue.slaWarnings),
    ),
    { type: 'divider' },
    ...section(`My tickets (${queue.mine.length})`, 'You hold no open tickets.', list(queue.mine)),
    { type: 'divider' },
    ...section(`Unclaimed queue (${queue.unclaimed.length})`, 'The queue is empty. :tada:', list(queue.unclaimed)),
  ];
  return { type: 'home', blocks: capBlocks(blocks, VIEW_LIMITS.blocks, 'tickets') };
}
