import type {
  Json,
  SandboxChannel,
  SandboxEphemeral,
  SandboxFile,
  SandboxMessage,
  SandboxUser,
  SandboxUserGroup,
  SandboxView,
} from './types.js';
import type { SlackWorkspace } from './workspace.js';

/** How Slack's Web API and payloads show the sandbox's records: its field names, no sandbox-only fields. */

export function apiMessage(message: SandboxMessage): Json {
  const { channel: _channel, command_echo: _echo, ...rest } = message;
  return { ...rest };
}

export function apiEphemeral(ephemeral: SandboxEphemeral): Json {
  const { via: _via, user: _user, channel: _channel, ...rest } = ephemeral;
  return { type: 'message', ...rest, subtype: 'bot_message' };
}

export function apiChannel(ws: SlackWorkspace, channel: SandboxChannel): Json {
  if (channel.is_im) {
    return {
      id: channel.id,
      created: channel.created,
      is_im: true,
      is_org_shared: false,
      user: channel.user,
      is_user_deleted: false,
      priority: 0,
    };
  }
  return {
    id: channel.id,
    name: channel.name,
    name_normalized: channel.name,
    is_channel: !channel.is_mpim,
    is_group: channel.is_private && !channel.is_mpim,
    is_im: false,
    is_mpim: channel.is_mpim,
    is_private: channel.is_private,
    is_archived: channel.is_archived,
    is_general: false,
    is_shared: false,
    is_org_shared: false,
    is_ext_shared: false,
    is_member: channel.members.includes(ws.bot.user_id),
    created: channel.created,
    creator: channel.creator,
    topic: { value: channel.topic, creator: '', last_set: 0 },
    purpose: { value: channel.purpose, creator: '', last_set: 0 },
    num_members: channel.members.length,
  };
}

export function apiUser(ws: SlackWorkspace, user: SandboxUser): Json {
  const image = `${ws.baseUrl()}/sandbox/avatar/${user.id}.svg`;
  return {
    id: user.id,
    team_id: ws.team.id,
    name: user.name,
    deleted: user.deleted,
    real_name: user.real_name,
    tz: user.tz,
    tz_label: 'Coordinated Universal Time',
    tz_offset: 0,
    is_admin: user.is_admin,
    is_owner: user.is_owner,
    is_primary_owner: user.is_owner,
    is_restricted: false,
    is_ultra_restricted: false,
    is_bot: user.is_bot,
    is_app_user: false,
    updated: 0,
    profile: {
      title: user.title,
      real_name: user.real_name,
      real_name_normalized: user.real_name,
      display_name: user.name,
      display_name_normalized: user.name,
      ...(user.email ? { email: user.email } : {}),
      image_24: image,
      image_48: image,
      image_72: image,
      image_192: image,
      team: ws.team.id,
      ...(user.is_bot ? { bot_id: ws.bot.bot_id } : {}),
    },
  };
}

export function apiUserGroup(ws: SlackWorkspace, group: SandboxUserGroup, includeUsers: boolean): Json {
  return {
    id: group.id,
    team_id: ws.team.id,
    is_usergroup: true,
    is_subteam: true,
    name: group.name,
    description: group.description,
    handle: group.handle,
    is_external: false,
    date_create: 0,
    date_update: 0,
    date_delete: 0,
    created_by: ws.bot.user_id,
    user_count: group.users.length,
    ...(includeUsers ? { users: [...group.users] } : {}),
  };
}

export function apiView(view: SandboxView): Json {
  const { user: _user, errors: _errors, ...rest } = view;
  return { ...rest, app_installed_team_id: view.team_id };
}

export function apiFile(ws: SlackWorkspace, file: SandboxFile): Json {
  const url = `${ws.baseUrl()}/sandbox/files/${file.id}/${encodeURIComponent(file.name)}`;
  return {
    id: file.id,
    created: file.created,
    timestamp: file.created,
    name: file.name,
    title: file.title,
    mimetype: file.mimetype,
    filetype: file.name.includes('.') ? file.name.split('.').pop() : 'text',
    user: file.user,
    size: file.content?.length ?? file.length,
    url_private: url,
    url_private_download: url,
    permalink: url,
    channels: [...file.channels],
  };
}
