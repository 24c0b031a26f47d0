import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../deps.js';
import { SLASH_COMMAND } from '../../ids.js';

/** Mentioning the bot gets a pointer to the slash command, in the thread of the mention. */
export function register(app: App, _deps: SlackDeps): void {
  app.event('app_mention', async ({ event, client }) => {
    await client.chat.postMessage({
      channel: event.channel,
      thread_ts: event.thread_ts ?? event.ts,
      text: `Hi <@${event.user}>! Earshot works from ticket cards and \`${SLASH_COMMAND} help\` (queue, mine, find, summary).`,
    });
  });
}
