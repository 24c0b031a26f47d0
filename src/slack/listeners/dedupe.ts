import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { SlackDeps } from '../deps.js';
import { markSlackEventProcessed } from '../event-dedupe.js';

/**
 * Global middleware: an Events API delivery whose `event_id` was handled before (Slack's retry,
 * `x-slack-retry-num`) is acknowledged and dropped, so no listener runs twice for one event.
 */
export function dedupeSlackEvents(deps: Pick<SlackDeps, 'db' | 'logger'>): Middleware<AnyMiddlewareArgs> {
  return async ({ body, next }) => {
    const eventId = (body as { event_id?: unknown }).event_id;
    if (typeof eventId === 'string' && eventId) {
      const first = await markSlackEventProcessed(deps.db, eventId);
      if (!first) {
        deps.logger.info({ eventId }, 'Slack event already handled; dropping the retry');
        return;
      }
    }
    await next();
  };
}
