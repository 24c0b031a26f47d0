import { SlackApiError } from '../errors.js';
import { apiChannel, apiMessage } from '../serialize.js';
import type { SandboxChannel, SandboxMessage } from '../types.js';
import { flag, type MethodHandler, optionalString, page, requireString } from './context.js';

function channelTypes(channel: SandboxChannel): string {
  if (channel.is_im) return 'im';
  if (channel.is_mpim) return 'mpim';
  return channel.is_private ? 'private_channel' : 'public_channel';
}

/** Filters by Slack's `latest`/`oldest`/`inclusive` window. */
function inWindow(messages: SandboxMessage[], args: Record<string, unknown>): SandboxMessage[] {
  const inclusive = flag(args, 'inclusive');
  const latest = optionalString(args, 'latest');
  const oldest = optionalString(args, 'oldest');
  return messages.filter((message) => {
    const ts = Number(message.ts);
    if (latest !== undefined && (inclusive ? ts > Number(latest) : ts >= Number(latest))) return false;
    if (oldest !== undefined && (inclusive ? ts < Number(oldest) : ts <= Number(oldest))) return false;
    return true;
  });
}

/** Slack returns a message's `metadata` from history and replies only when asked (`include_all_metadata`). */
function listed(args: Record<string, unknown>): (message: SandboxMessage) => Record<string, unknown> {
  const withMetadata = flag(args, 'include_all_metadata');
  return (message) => {
    const { metadata, ...rest } = apiMessage(message);
    return withMetadata && metadata ? { ...rest, metadata } : rest;
  };
}

/** The conversations.* methods: list, info, open (DMs), history, replies, members. */
export const conversationsMethods: Record<string, MethodHandler> = {
  'conversations.list': ({ ws, args }) => {
    const types = (optionalString(args, 'types') ?? 'public_channel').split(',').map((type) => type.trim());
    const excludeArchived = flag(args, 'exclude_archived');
    const matching = [...ws.channels.values()].filter(
      (channel) =>
        types.includes(channelTypes(channel)) &&
        !(excludeArchived && channel.is_archived) &&
        // A bot sees private conversations only when it is in them.
        (!channel.is_private || channel.members.includes(ws.bot.user_id)),
    );
    const { items, next_cursor } = page(matching, args, 100);
    return { channels: items.map((channel) => apiChannel(ws, channel)), response_metadata: { next_cursor } };
  },

  'conversations.info': ({ ws, args }) => {
    const channel = ws.channel(args.channel);
    return { channel: apiChannel(ws, channel) };
  },

  'conversations.open': ({ ws, args }) => {
    const existing = optionalString(args, 'channel');
    if (existing) return { channel: apiChannel(ws, ws.channel(existing)) };
    const users = requireString(args, 'users', 'users_list_not_supplied')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    if (users.length === 0) throw new SlackApiError('users_list_not_supplied');
    if (users.length > 8) throw new SlackApiError('too_many_users');
    const channel = users.length === 1 ? ws.openDm(users[0]!) : ws.openGroupDm(users);
    const full = flag(args, 'return_im');
    return { no_op: false, already_open: false, channel: full ? apiChannel(ws, channel) : { id: channel.id } };
  },

  'conversations.history': ({ ws, args }) => {
    const channel = ws.channel(args.channel);
    const newestFirst = inWindow(ws.channelMessages(channel.id), args).reverse();
    const { items, next_cursor } = page(newestFirst, args, 100);
    return {
      messages: items.map(listed(args)),
      has_more: next_cursor !== '',
      pin_count: 0,
      response_metadata: { next_cursor },
    };
  },

  'conversations.replies': ({ ws, args }) => {
    const channel = ws.channel(args.channel);
    const ts = requireString(args, 'ts', 'thread_not_found');
    const thread = ws.thread(channel.id, ts);
    if (thread.length === 0) throw new SlackApiError('thread_not_found');
    const { items, next_cursor } = page(inWindow(thread, args), args, 1000);
    return { messages: items.map(listed(args)), has_more: next_cursor !== '', response_metadata: { next_cursor } };
  },

  'conversations.members': ({ ws, args }) => {
    const channel = ws.channel(args.channel);
    const { items, next_cursor } = page(channel.members, args, 100);
    return { members: items, response_metadata: { next_cursor } };
  },
};
