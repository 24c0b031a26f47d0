import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../deps.js';
import * as appHomeOpened from './app-home-opened.js';
import * as appMention from './app-mention.js';

interface ListenerModule {
  register: (app: App, deps: SlackDeps) => void;
}

/** Other surfaces' event listeners (App Home's `app_home_opened`, …) are appended here. */
const MORE: readonly ListenerModule[] = [appHomeOpened];

/** Every Events API listener. Slack's retries are dropped before they get here (see dedupeSlackEvents). */
export function register(app: App, deps: SlackDeps): void {
  for (const module of [appMention, ...MORE]) module.register(app, deps);
}
