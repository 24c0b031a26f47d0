import type { App } from '@slack/bolt';
import type { SlackDeps } from '../deps.js';
import * as actions from './actions/index.js';
import * as commands from './commands/index.js';
import { dedupeSlackEvents } from './dedupe.js';
import * as events from './events/index.js';
import { slackLogContext } from './log-context.js';
import * as views from './views/index.js';

/**
 * Registers every listener, grouped by Slack surface (one folder each, each folder's index exports
 * `register(app, deps)`). Slack's event retries are dropped first, before any listener runs.
 */
export function registerListeners(app: App, deps: SlackDeps): void {
  app.use(slackLogContext());
  app.use(dedupeSlackEvents(deps));
  for (const surface of [actions, events, views, commands]) surface.register(app, deps);
}
