/** The shapes the sandbox keeps, close to what Slack's Web API returns for the same things. */

export type Json = Record<string, unknown>;

export interface SandboxUser {
  id: string;
  name: string;
  real_name: string;
  is_admin: boolean;
  is_owner: boolean;
  is_bot: boolean;
  deleted: boolean;
  tz: string;
  /** What the sandbox page calls this person in its user switcher (admin, lead, agent, viewer). */
  title: string;
  email?: string;
}

export interface SandboxChannel {
  id: string;
  name: string;
  is_private: boolean;
  is_im: boolean;
  is_mpim: boolean;
  is_archived: boolean;
  created: number;
  creator: string;
  topic: string;
  purpose: string;
  /** Member user ids; the bot is a member of every seeded channel. */
  members: string[];
  /** For a DM: the other person. */
  user?: string;
}

export interface SandboxFile {
  id: string;
  name: string;
  title: string;
  length: number;
  mimetype: string;
  content?: Buffer;
  created: number;
  user: string;
  /** Set once files.completeUploadExternal shared it. */
  channels: string[];
}

export interface SandboxMessage {
  type: 'message';
  ts: string;
  channel: string;
  text: string;
  blocks?: Json[];
  attachments?: Json[];
  /** A person's message. */
  user?: string;
  /** The bot's message. */
  bot_id?: string;
  app_id?: string;
  subtype?: string;
  thread_ts?: string;
  reply_count?: number;
  reply_users?: string[];
  latest_reply?: string;
  reply_broadcast?: boolean;
  edited?: { user: string; ts: string };
  metadata?: Json;
  files?: Json[];
  username?: string;
  icon_emoji?: string;
  icon_url?: string;
  /** Slash command output posted in_channel carries the command that produced it, as Slack shows it. */
  command_echo?: string;
  team: string;
}

export interface SandboxEphemeral {
  ts: string;
  channel: string;
  /** Only this user sees it. */
  user: string;
  text: string;
  blocks?: Json[];
  attachments?: Json[];
  thread_ts?: string;
  bot_id: string;
  /** Where it came from: a chat.postEphemeral call or a response_url. */
  via: 'api' | 'response_url';
}

export interface SandboxView {
  id: string;
  team_id: string;
  type: 'modal' | 'home';
  /** Whose modal or App Home this is. */
  user: string;
  title?: Json;
  submit?: Json;
  close?: Json;
  blocks: Json[];
  callback_id: string;
  private_metadata: string;
  external_id: string;
  hash: string;
  clear_on_close: boolean;
  notify_on_close: boolean;
  submit_disabled: boolean;
  state: { values: Record<string, Record<string, Json>> };
  root_view_id: string;
  previous_view_id: string | null;
  app_id: string;
  bot_id: string;
  /** Validation errors from the app's last `response_action: 'errors'`, by block_id. */
  errors: Record<string, string>;
}

export interface SandboxUserGroup {
  id: string;
  handle: string;
  name: string;
  description: string;
  users: string[];
}

export interface SandboxTeam {
  id: string;
  name: string;
  domain: string;
}

export interface SandboxBot {
  /** The bot user (what `<@…>` mentions of the app use). */
  user_id: string;
  bot_id: string;
  app_id: string;
  name: string;
}

/** Where an interaction's response_url posts: the message or command it belongs to. */
export interface ResponseUrlTarget {
  id: string;
  user: string;
  channel: string;
  /** The message the interaction came from (block_actions), absent for slash commands. */
  messageTs?: string;
  ephemeral?: boolean;
  threadTs?: string;
  /** The slash command text, shown above in_channel responses. */
  command?: string;
  uses: number;
  expiresAt: number;
}

export interface Trigger {
  id: string;
  user: string;
  expiresAt: number;
  used: boolean;
}

/** One recorded Web API (or response_url) call: what tests assert on. */
export interface SlackCall {
  method: string;
  /** Arguments as the app meant them: form fields with JSON strings (blocks, view…) already decoded. */
  args: Json;
  time: Date;
  /** The HTTP status answered. */
  status: number;
  ok: boolean;
  error?: string;
  /** Seconds of the Retry-After header, on a 429. */
  retryAfter?: number;
  response?: Json;
  contentType: string;
}

/** A change the sandbox page listens for, to refresh what it shows. */
export interface WorkspaceChange {
  kind: 'message' | 'ephemeral' | 'view' | 'home' | 'channel' | 'reset';
  channel?: string;
  ts?: string;
  user?: string;
  viewId?: string;
}
