import type { App } from '@slack/bolt';
import { dispatchCommand } from '../../commands/dispatch.js';
import { SUBCOMMANDS } from '../../commands/index.js';
import type { SlackDeps } from '../../deps.js';
import { SLASH_COMMAND } from '../../ids.js';
import { describeFailure } from '../tell-user.js';

/**
 * `/earshot`: ack at once (Slack wants it within 3 s), then dispatch and answer through the
 * response_url — ephemeral unless the user added `share`. Faults reach the user and the log.
 */
export function register(app: App, deps: SlackDeps): void {
  app.command(SLASH_COMMAND, async ({ ack, command, respond, client }) => {
    await ack();
    const context = { command: SLASH_COMMAND, text: command.text.slice(0, 200), userId: command.user_id };
    try {
      const actor = await deps.resolveActor(command.user_id);
      const reply = await dispatchCommand(
        SUBCOMMANDS,
        {
          db: deps.db,
          config: deps.config,
          logger: deps.logger,
          actor,
          channelId: command.channel_id,
          userId: command.user_id,
          triggerId: command.trigger_id,
          services: deps.services,
          client,
        },
        command.text,
      );
      await respond({
        response_type: reply.responseType ?? 'ephemeral',
        text: reply.text,
        ...(reply.blocks ? { blocks: reply.blocks } : {}),
      });
    } catch (err) {
      const failure = describeFailure(err);
      deps.logger.error({ ...context, err, ref: failure.ref }, 'slash command failed');
      await respond({ response_type: 'ephemeral', text: failure.text });
    }
  });
}
