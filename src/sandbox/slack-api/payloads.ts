import { randomBytes } from 'node:crypto';
import { apiMessage, apiView } from './serialize.js';
import type { Json, SandboxChannel, SandboxMessage, SandboxView } from './types.js';
import { type InputValue, stateEntry } from './view-state.js';
import type { SlackWorkspace } from './workspace.js';

/**
 * The payloads Slack sends an app when a person acts, built from the sandbox's state: slash command
 * form fields, `block_actions`, `view_submission`, `view_closed`, and Events API callbacks.
 */

/** Slack's legacy verification token; Bolt ignores it, but real payloads carry one. */
export const VERIFICATION_TOKEN = 'sandboxverificationtoken';

function userRef(ws: SlackWorkspace, userId: string): Json {
  const user = ws.user(userId);
  return { id: user.id, username: user.name, name: user.name, team_id: ws.team.id };
}

function channelName(channel: SandboxChannel): string {
  if (channel.is_im) return 'directmessage';
  if (channel.is_mpim) return 'mpdm';
  return channel.name;
}

export function buildSlashCommand(
  ws: SlackWorkspace,
  input: {
    user: string;
    channel: SandboxChannel;
    command: string;
    text: string;
    triggerId: string;
    responseUrl: string;
  },
): Record<string, string> {
  return {
    token: VERIFICATION_TOKEN,
    team_id: ws.team.id,
    team_domain: ws.team.domain,
    channel_id: input.channel.id,
    channel_name: channelName(input.channel),
    user_id: input.user,
    user_name: ws.user(input.user).name,
    command: input.command,
    text: input.text,
    api_app_id: ws.bot.app_id,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId,
  };
}

/** One element of `actions[]`: what was clicked or chosen, described as Slack describes it. */
export function buildAction(ws: SlackWorkspace, block: Json, element: Json, chosen?: InputValue): Json {
  const base: Json = {
    action_id: element.action_id,
    block_id: block.block_id,
    type: element.type,
    action_ts: ws.nextTs(),
  };
  if (element.type === 'button') {
    return {
      ...base,
      text: element.text,
      ...(element.value !== undefined ? { value: element.value } : {}),
      ...(element.style !== undefined ? { style: element.style } : {}),
      ...(element.url !== undefined ? { url: element.url } : {}),
    };
  }
  if (element.type === 'overflow') {
    const entry = stateEntry({ ...element, type: 'static_select' }, chosen ?? null);
    return { ...base, selected_option: entry.selected_option };
  }
  return { ...stateEntry(element, chosen ?? null), ...base };
}

export type ActionContainer =
  | { type: 'message'; channel: SandboxChannel; message: SandboxMessage }
  | { type: 'ephemeral'; channel: SandboxChannel; ts: string; threadTs?: string }
  | { type: 'view'; view: SandboxView };

export function buildBlockActions(
  ws: SlackWorkspace,
  input: { user: string; container: ActionContainer; action: Json; triggerId: string; responseUrl?: string },
): Json {
  const { container } = input;
  const common: Json = {
    type: 'block_actions',
    user: userRef(ws, input.user),
    api_app_id: ws.bot.app_id,
    token: VERIFICATION_TOKEN,
    trigger_id: input.triggerId,
    team: { id: ws.team.id, domain: ws.team.domain },
    enterprise: null,
    is_enterprise_install: false,
    actions: [input.action],
  };
  if (container.type === 'view') {
    return {
      ...common,
      container: { type: 'view', view_id: container.view.id },
      view: apiView(container.view),
      state: container.view.state,
    };
  }
  const channel = { id: container.channel.id, name: channelName(container.channel) };
  if (container.type === 'ephemeral') {
    return {
      ...common,
      container: {
        type: 'message',
        message_ts: container.ts,
        channel_id: container.channel.id,
        is_ephemeral: true,
        ...(container.threadTs ? { thread_ts: container.threadTs } : {}),
      },
      channel,
      state: { values: {} },
      ...(input.responseUrl ? { response_url: input.responseUrl } : {}),
    };
  }
  const { message } = container;
  return {
    ...common,
    container: {
      type: 'message',
      message_ts: message.ts,
      channel_id: container.channel.id,
      is_ephemeral: false,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    },
    channel,
    message: apiMessage(message),
    state: { values: {} },
    ...(input.responseUrl ? { response_url: input.responseUrl } : {}),
  };
}

export function buildViewSubmission(
  ws: SlackWorkspace,
  input: { user: string; view: SandboxView; triggerId: string },
): Json {
  return {
    type: 'view_submission',
    team: { id: ws.team.id, domain: ws.team.domain },
    user: userRef(ws, input.user),
    api_app_id: ws.bot.app_id,
    token: VERIFICATION_TOKEN,
    trigger_id: input.triggerId,
    view: apiView(input.view),
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export function buildViewClosed(ws: SlackWorkspace, input: { user: string; view: SandboxView }): Json {
  return {
    type: 'view_closed',
    team: { id: ws.team.id, domain: ws.team.domain },
    user: userRef(ws, input.user),
    api_app_id: ws.bot.app_id,
    token: VERIFICATION_TOKEN,
    view: apiView(input.view),
    is_cleared: false,
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** An Events API callback wrapping `event`, with a fresh `event_id` unless one is given (retries reuse it). */
export function buildEventCallback(ws: SlackWorkspace, event: Json, eventId?: string): Json {
  const now = ws.now();
  return {
    token: VERIFICATION_TOKEN,
    team_id: ws.team.id,
    context_team_id: ws.team.id,
    api_app_id: ws.bot.app_id,
    event: { event_ts: ws.nextTs(), ...event },
    type: 'event_callback',
    event_id: eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: Math.floor(now / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: ws.team.id,
        user_id: ws.bot.user_id,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${randomBytes(8).toString('hex')}`,
  };
}
