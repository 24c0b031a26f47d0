import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { getTicketExcerpts } from '../../../reports/excerpts.js';
import { getPersonalQueue } from '../../../reports/personal-queue.js';
import { buildHomeView } from '../../blocks/home.js';
import type { SlackDeps } from '../../deps.js';

/** Renders and publishes one user's App Home: their tickets, the unclaimed queue, SLA warnings. */
export async function publishHome(deps: SlackDeps, client: WebClient, userId: string): Promise<void> {
  const queue = await getPersonalQueue(deps.db, { userId });
  const ids = [...queue.slaWarnings, ...queue.mine, ...queue.unclaimed].map((t) => t.id);
  const excerpts = await getTicketExcerpts(deps.db, ids);
  const view = buildHomeView({ queue, excerpts, maskPii: deps.config.EARSHOT_MASK_PII });
  await client.views.publish({ user_id: userId, view });
}

/** `app_home_opened` (Home tab only): publish a fresh view. Events are acked by Bolt. */
export function register(app: App, deps: SlackDeps): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await publishHome(deps, client, event.user);
  });
}
