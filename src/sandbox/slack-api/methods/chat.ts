import { SlackApiError } from '../errors.js';
import { apiMessage } from '../serialize.js';
import type { SandboxChannel } from '../types.js';
import type { SlackWorkspace } from '../workspace.js';
import { type MethodHandler, messageContent, RateLimitedError, requireString } from './context.js';

function postable(ws: SlackWorkspace, channel: SandboxChannel): void {
  if (channel.is_archived) throw new SlackApiError('is_archived');
  // Public channels take posts from chat:write.public apps; private ones only from members.
  if (channel.is_private && !channel.members.includes(ws.bot.user_id)) throw new SlackApiError('not_in_channel');
}

/** The chat.* methods Earshot uses: post, update, delete, ephemeral, permalink. */
export const chatMethods: Record<string, MethodHandler> = {
  'chat.postMessage': ({ ws, args }) => {
    const channel = ws.channel(args.channel);
    postable(ws, channel);
    const retryAfter = ws.rateLimiter.take(channel.id);
    if (retryAfter > 0) throw new RateLimitedError(retryAfter);
    const content = messageContent(args, { requireSomething: true });
    const message = ws.postMessage(channel, content, { bot: true });
    return { channel: channel.id, ts: message.ts, message: apiMessage(message) };
  },

  'chat.update': ({ ws, args }) => {
    const channel = ws.channel(args.channel);
    const ts = requireString(args, 'ts', 'message_not_found');
    const existing = ws.message(channel.id, ts);
    if (existing.bot_id !== ws.bot.bot_id) throw new SlackApiError('cant_update_message');
    const content = messageContent(args, { requireSomething: false });
    const message = ws.updateMessage(channel.id, ts, content);
    return { channel: channel.id, ts, text: message.text, message: apiMessage(message) };
  },

  'chat.delete': ({ ws, args }) => {
    const channel = ws.channel(args.channel);
    const ts = requireString(args, 'ts', 'message_not_found');
    const existing = ws.message(channel.id, ts);
    if (existing.bot_id !== ws.bot.bot_id) throw new SlackApiError('cant_delete_message');
    ws.deleteMessage(channel.id, ts);
    return { channel: channel.id, ts };
  },

  'chat.postEphemeral': ({ ws, args }) => {
    const channel = ws.channel(args.channel);
    const userId = requireString(args, 'user', 'user_not_found');
    ws.user(userId);
    if (!channel.members.includes(userId)) throw new SlackApiError('user_not_in_channel');
    const content = messageContent(args, { requireSomething: true });
    const ephemeral = ws.postEphemeral(channel, userId, content, 'api');
    return { message_ts: ephemeral.ts };
  },

  'chat.getPermalink': ({ ws, args }) => {
    const channel = ws.channel(args.channel);
    const ts = requireString(args, 'message_ts', 'message_not_found');
    const message = ws.message(channel.id, ts);
    const thread =
      message.thread_ts && message.thread_ts !== message.ts ? `?thread_ts=${message.thread_ts}&cid=${channel.id}` : '';
    return {
      channel: channel.id,
      permalink: `${ws.baseUrl()}/archives/${channel.id}/p${ts.replace('.', '')}${thread}`,
    };
  },
};
