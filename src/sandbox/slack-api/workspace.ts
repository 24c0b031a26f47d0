import { randomBytes } from 'node:crypto';
import { type AppLink, UserSession } from '../user-actions.js';
import { SlackApiError } from './errors.js';
import { ChannelRateLimiter, type DownMode, FaultInjector, type FaultSpec, type RateLimitSettings } from './faults.js';
import { defaultSeed, type WorkspaceSeed } from './seed.js';
import type {
  Json,
  ResponseUrlTarget,
  SandboxBot,
  SandboxChannel,
  SandboxEphemeral,
  SandboxFile,
  SandboxMessage,
  SandboxTeam,
  SandboxUser,
  SandboxUserGroup,
  SandboxView,
  SlackCall,
  Trigger,
  WorkspaceChange,
} from './types.js';
import { assignIds, carryState } from './view-state.js';

export interface WorkspaceOptions {
  seed?: Partial<WorkspaceSeed>;
  /** Milliseconds since the epoch; tests may pin it. */
  clock?: () => number;
  /** The sandbox's own base URL (for response_url, upload_url, permalinks), known once it listens. */
  baseUrl: () => string;
  /** How long a trigger_id stays valid (Slack: about 3 s). */
  triggerTtlMs?: number;
}

/** Who is posting: the app's bot, or a person typing in the page or a test. */
export type Author = { bot: true } | { user: string };

export interface MessageContent {
  text?: string;
  blocks?: Json[];
  attachments?: Json[];
  thread_ts?: string;
  reply_broadcast?: boolean;
  metadata?: Json;
  files?: Json[];
  username?: string;
  icon_emoji?: string;
  icon_url?: string;
  command_echo?: string;
}

const MAX_MODAL_STACK = 3;
const RESPONSE_URL_TTL_MS = 30 * 60_000;
const RESPONSE_URL_USES = 5;

/**
 * An in-memory Slack workspace: people, channels, messages and threads, ephemerals, modals and App
 * Homes, user groups and files, plus what tests need around them: every call recorded, failures
 * injected, the per-channel rate limit. The Web API methods and user actions both work on it.
 */
export class SlackWorkspace {
  readonly team: SandboxTeam;
  readonly bot: SandboxBot;
  readonly users = new Map<string, SandboxUser>();
  readonly channels = new Map<string, SandboxChannel>();
  readonly usergroups = new Map<string, SandboxUserGroup>();
  readonly files = new Map<string, SandboxFile>();
  readonly views = new Map<string, SandboxView>();
  /** Every Web API and response_url call the app made, oldest first. */
  readonly calls: SlackCall[] = [];
  readonly faults = new FaultInjector();
  readonly rateLimiter: ChannelRateLimiter;
  readonly now: () => number;
  readonly baseUrl: () => string;
  /** Socket Mode: the app-level token `apps.connections.open` takes and the WebSocket URL it hands out. */
  socketMode: { appToken: string; url: string } | null = null;

  private readonly messages = new Map<string, SandboxMessage[]>();
  private ephemerals: SandboxEphemeral[] = [];
  private readonly modalStacks = new Map<string, string[]>();
  private readonly homes = new Map<string, string>();
  private readonly triggers = new Map<string, Trigger>();
  private readonly responseUrls = new Map<string, ResponseUrlTarget>();
  private readonly listeners = new Set<(change: WorkspaceChange) => void>();
  private readonly triggerTtlMs: number;
  private lastTsMicros = 0;
  private idCounter = 0;
  private link: AppLink | undefined;

  constructor(options: WorkspaceOptions) {
    const seed = { ...defaultSeed(), ...options.seed };
    this.now = options.clock ?? Date.now;
    this.baseUrl = options.baseUrl;
    this.triggerTtlMs = options.triggerTtlMs ?? 3000;
    this.rateLimiter = new ChannelRateLimiter(this.now);
    this.team = seed.team;
    this.bot = seed.bot;
    const created = Math.floor(this.now() / 1000);
    this.users.set(seed.bot.user_id, {
      id: seed.bot.user_id,
      name: seed.bot.name,
      real_name: 'Earshot',
      is_admin: false,
      is_owner: false,
      is_bot: true,
      deleted: false,
      tz: 'UTC',
      title: 'app',
    });
    for (const user of seed.users) {
      this.users.set(user.id, {
        id: user.id,
        name: user.name,
        real_name: user.real_name,
        is_admin: user.is_admin ?? false,
        is_owner: user.is_owner ?? false,
        is_bot: false,
        deleted: false,
        tz: 'UTC',
        title: user.title,
        email: `${user.name}@example.com`,
      });
    }
    const people = seed.users.map((user) => user.id);
    for (const channel of seed.channels) {
      const members = [...(channel.members ?? people)];
      if (channel.botIsMember !== false) members.push(seed.bot.user_id);
      this.channels.set(channel.id, {
        id: channel.id,
        name: channel.name,
        is_private: channel.is_private ?? false,
        is_im: false,
        is_mpim: false,
        is_archived: false,
        created,
        creator: people[0] ?? seed.bot.user_id,
        topic: channel.topic ?? '',
        purpose: channel.purpose ?? '',
        members,
      });
    }
    for (const group of seed.usergroups) {
      this.usergroups.set(group.id, { ...group, description: '', users: [...group.users] });
    }
  }

  /** Connects the workspace to the app it sends people's actions to (done by createSlackSandbox). */
  connect(link: AppLink): void {
    this.link = link;
  }

  /** Acts as a person: `workspace.as(SEED.users.agent1).clickButton(ts, 'ticket_claim')`. */
  as(userId: string): UserSession {
    if (!this.link) throw new Error('This workspace is not connected to an app; create it with createSlackSandbox');
    return new UserSession(this, this.link, userId);
  }

  // --- ids and time ---

  /** A Slack-shaped id: prefix, then capitals and digits. */
  newId(prefix: string): string {
    this.idCounter += 1;
    return `${prefix}0${this.idCounter.toString(36).toUpperCase()}${randomBytes(3).toString('hex').toUpperCase()}`;
  }

  /** A message timestamp: seconds.microseconds, strictly increasing, as Slack's are within a channel. */
  nextTs(): string {
    const micros = Math.max(this.now() * 1000, this.lastTsMicros + 1);
    this.lastTsMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  // --- change notifications (the page's live updates) ---

  onChange(listener: (change: WorkspaceChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change: WorkspaceChange): void {
    for (const listener of this.listeners) listener(change);
  }

  // --- people and channels ---

  user(id: string): SandboxUser {
    const user = this.users.get(id);
    if (!user) throw new SlackApiError('user_not_found');
    return user;
  }

  /** Finds a conversation by id, by name (`earshot-feedback` or `#earshot-feedback`), or a user's DM by user id. */
  findChannel(idOrName: string): SandboxChannel | undefined {
    const byId = this.channels.get(idOrName);
    if (byId) return byId;
    const name = idOrName.replace(/^#/, '');
    for (const channel of this.channels.values()) if (!channel.is_im && channel.name === name) return channel;
    if (/^[UW]/.test(idOrName) && this.users.has(idOrName)) return this.openDm(idOrName);
    return undefined;
  }

  channel(idOrName: unknown): SandboxChannel {
    if (typeof idOrName !== 'string' || idOrName === '') throw new SlackApiError('channel_not_found');
    const channel = this.findChannel(idOrName);
    if (!channel) throw new SlackApiError('channel_not_found');
    return channel;
  }

  /** The DM between the bot and a person (the App Home's Messages tab), created on first use. */
  openDm(userId: string): SandboxChannel {
    this.user(userId);
    for (const channel of this.channels.values()) if (channel.is_im && channel.user === userId) return channel;
    const channel: SandboxChannel = {
      id: this.newId('D'),
      name: userId,
      is_private: true,
      is_im: true,
      is_mpim: false,
      is_archived: false,
      created: Math.floor(this.now() / 1000),
      creator: userId,
      topic: '',
      purpose: '',
      members: [userId, this.bot.user_id],
      user: userId,
    };
    this.channels.set(channel.id, channel);
    this.emit({ kind: 'channel', channel: channel.id });
    return channel;
  }

  /** A group DM with several people and the bot. */
  openGroupDm(userIds: string[]): SandboxChannel {
    for (const id of userIds) this.user(id);
    const members = [...new Set([...userIds, this.bot.user_id])].sort();
    for (const channel of this.channels.values())
      if (channel.is_mpim && [...channel.members].sort().join() === members.join()) return channel;
    const channel: SandboxChannel = {
      id: this.newId('G'),
      name: `mpdm-${members.map((id) => this.users.get(id)?.name ?? id).join('--')}-1`,
      is_private: true,
      is_im: false,
      is_mpim: true,
      is_archived: false,
      created: Math.floor(this.now() / 1000),
      creator: userIds[0] ?? this.bot.user_id,
      topic: '',
      purpose: '',
      members,
    };
    this.channels.set(channel.id, channel);
    this.emit({ kind: 'channel', channel: channel.id });
    return channel;
  }

  /** Adds a channel at run time (tests of routing rules, the page). */
  createChannel(name: string, options: { is_private?: boolean; members?: string[] } = {}): SandboxChannel {
    const channel: SandboxChannel = {
      id: this.newId('C'),
      name,
      is_private: options.is_private ?? false,
      is_im: false,
      is_mpim: false,
      is_archived: false,
      created: Math.floor(this.now() / 1000),
      creator: this.bot.user_id,
      topic: '',
      purpose: '',
      members: [...(options.members ?? [...this.users.keys()])],
    };
    if (!channel.members.includes(this.bot.user_id)) channel.members.push(this.bot.user_id);
    this.channels.set(channel.id, channel);
    this.emit({ kind: 'channel', channel: channel.id });
    return channel;
  }

  // --- messages ---

  /** Every message of a conversation, replies included, oldest first. */
  allMessages(channel: string): SandboxMessage[] {
    return this.messages.get(channel) ?? [];
  }

  /** The channel's top-level messages (and replies also sent to the channel), oldest first. */
  channelMessages(channel: string): SandboxMessage[] {
    return this.allMessages(channel).filter(
      (message) => !message.thread_ts || message.thread_ts === message.ts || message.reply_broadcast,
    );
  }

  findMessage(channel: string, ts: string): SandboxMessage | undefined {
    return this.allMessages(channel).find((message) => message.ts === ts);
  }

  message(channel: string, ts: unknown): SandboxMessage {
    const found = typeof ts === 'string' ? this.findMessage(channel, ts) : undefined;
    if (!found) throw new SlackApiError('message_not_found');
    return found;
  }

  /** The thread's parent and replies, oldest first; empty when `ts` is no message. */
  thread(channel: string, ts: string): SandboxMessage[] {
    const parent = this.findMessage(channel, ts);
    if (!parent) return [];
    const root = parent.thread_ts ?? parent.ts;
    return this.allMessages(channel).filter((message) => message.ts === root || message.thread_ts === root);
  }

  /** Finds a message by ts in any conversation (tests usually know only the ts). */
  locate(ts: string): SandboxMessage | undefined {
    for (const list of this.messages.values()) {
      const found = list.find((message) => message.ts === ts);
      if (found) return found;
    }
    return undefined;
  }

  /** Latest message in a channel (by the bot, unless `any`), e.g. the card the app just posted. */
  lastMessage(channel: string, options: { any?: boolean } = {}): SandboxMessage | undefined {
    const id = this.findChannel(channel)?.id ?? channel;
    const list = this.allMessages(id).filter((message) => options.any || message.bot_id);
    return list[list.length - 1];
  }

  postMessage(channel: SandboxChannel, content: MessageContent, author: Author): SandboxMessage {
    let threadTs = content.thread_ts;
    if (threadTs) {
      const parent = this.findMessage(channel.id, threadTs);
      if (!parent) throw new SlackApiError('invalid_thread_ts');
      threadTs = parent.thread_ts ?? parent.ts;
    }
    const message: SandboxMessage = {
      type: 'message',
      ts: this.nextTs(),
      channel: channel.id,
      text: content.text ?? '',
      team: this.team.id,
      ...('bot' in author ? { bot_id: this.bot.bot_id, app_id: this.bot.app_id, user: this.bot.user_id } : {}),
      ...('user' in author ? { user: author.user } : {}),
      ...(content.blocks ? { blocks: assignIds(content.blocks) } : {}),
      ...(content.attachments ? { attachments: content.attachments } : {}),
      ...(content.metadata ? { metadata: content.metadata } : {}),
      ...(content.files ? { files: content.files } : {}),
      ...(content.username ? { username: content.username } : {}),
      ...(content.icon_emoji ? { icon_emoji: content.icon_emoji } : {}),
      ...(content.icon_url ? { icon_url: content.icon_url } : {}),
      ...(content.command_echo ? { command_echo: content.command_echo } : {}),
    };
    if (threadTs) {
      message.thread_ts = threadTs;
      if (content.reply_broadcast) {
        message.reply_broadcast = true;
        message.subtype = 'thread_broadcast';
      }
      const parent = this.findMessage(channel.id, threadTs)!;
      parent.thread_ts = parent.ts;
      parent.reply_count = (parent.reply_count ?? 0) + 1;
      const replier = message.user ?? this.bot.user_id;
      parent.reply_users = [...new Set([...(parent.reply_users ?? []), replier])];
      parent.latest_reply = message.ts;
    }
    const list = this.messages.get(channel.id) ?? [];
    list.push(message);
    this.messages.set(channel.id, list);
    this.emit({ kind: 'message', channel: channel.id, ts: message.ts });
    return message;
  }

  updateMessage(channel: string, ts: string, content: MessageContent): SandboxMessage {
    const message = this.message(channel, ts);
    if (content.text !== undefined) message.text = content.text;
    if (content.blocks !== undefined) message.blocks = assignIds(content.blocks);
    if (content.attachments !== undefined) message.attachments = content.attachments;
    if (content.metadata !== undefined) message.metadata = content.metadata;
    message.edited = { user: message.user ?? this.bot.user_id, ts: this.nextTs() };
    this.emit({ kind: 'message', channel, ts });
    return message;
  }

  deleteMessage(channel: string, ts: string): void {
    const message = this.message(channel, ts);
    const list = this.allMessages(channel).filter((candidate) => candidate !== message);
    this.messages.set(channel, list);
    if (message.thread_ts && message.thread_ts !== message.ts) {
      const parent = this.findMessage(channel, message.thread_ts);
      if (parent) parent.reply_count = Math.max(0, (parent.reply_count ?? 1) - 1);
    }
    this.emit({ kind: 'message', channel, ts });
  }

  // --- ephemerals ---

  postEphemeral(
    channel: SandboxChannel,
    user: string,
    content: MessageContent,
    via: SandboxEphemeral['via'],
  ): SandboxEphemeral {
    const ephemeral: SandboxEphemeral = {
      ts: this.nextTs(),
      channel: channel.id,
      user,
      text: content.text ?? '',
      bot_id: this.bot.bot_id,
      via,
      ...(content.blocks ? { blocks: assignIds(content.blocks) } : {}),
      ...(content.attachments ? { attachments: content.attachments } : {}),
      ...(content.thread_ts ? { thread_ts: content.thread_ts } : {}),
    };
    this.ephemerals.push(ephemeral);
    this.emit({ kind: 'ephemeral', channel: channel.id, user, ts: ephemeral.ts });
    return ephemeral;
  }

  /** Ephemeral messages a person sees, optionally in one channel, oldest first. */
  ephemeralsFor(user: string, channel?: string): SandboxEphemeral[] {
    return this.ephemerals.filter((item) => item.user === user && (channel === undefined || item.channel === channel));
  }

  findEphemeral(ts: string): SandboxEphemeral | undefined {
    return this.ephemerals.find((item) => item.ts === ts);
  }

  replaceEphemeral(ts: string, content: MessageContent): void {
    const ephemeral = this.findEphemeral(ts);
    if (!ephemeral) return;
    ephemeral.text = content.text ?? '';
    if (content.blocks) ephemeral.blocks = assignIds(content.blocks);
    else delete ephemeral.blocks;
    this.emit({ kind: 'ephemeral', channel: ephemeral.channel, user: ephemeral.user, ts });
  }

  deleteEphemeral(ts: string): void {
    const ephemeral = this.findEphemeral(ts);
    this.ephemerals = this.ephemerals.filter((item) => item.ts !== ts);
    if (ephemeral) this.emit({ kind: 'ephemeral', channel: ephemeral.channel, user: ephemeral.user, ts });
  }

  // --- triggers and response URLs (issued when a person interacts) ---

  /** A trigger_id names the second it was issued in, as Slack's do (`1767000000.123.abc…`). */
  issueTrigger(user: string): string {
    this.dropExpired(this.triggers);
    const id = `${Math.floor(this.now() / 1000)}.${randomBytes(6).readUIntBE(0, 6)}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { id, user, expiresAt: this.now() + this.triggerTtlMs, used: false });
    return id;
  }

  /**
   * Uses a trigger_id for views.open/push: valid once, for about 3 seconds, as in Slack. Expired ids
   * are dropped, so one no longer held is told expired by the issue time it carries.
   */
  useTrigger(id: unknown): Trigger {
    this.dropExpired(this.triggers);
    const trigger = typeof id === 'string' ? this.triggers.get(id) : undefined;
    if (!trigger) {
      const issuedSeconds = typeof id === 'string' ? /^(\d+)\./.exec(id)?.[1] : undefined;
      const expired = issuedSeconds !== undefined && Number(issuedSeconds) * 1000 + this.triggerTtlMs < this.now();
      throw new SlackApiError(expired ? 'expired_trigger_id' : 'invalid_trigger_id');
    }
    if (trigger.used) throw new SlackApiError('exchanged_trigger_id');
    if (this.now() > trigger.expiresAt) throw new SlackApiError('expired_trigger_id');
    trigger.used = true;
    return trigger;
  }

  issueResponseUrl(target: Omit<ResponseUrlTarget, 'id' | 'uses' | 'expiresAt'>): string {
    this.dropExpired(this.responseUrls);
    const id = randomBytes(12).toString('hex');
    this.responseUrls.set(id, { ...target, id, uses: 0, expiresAt: this.now() + RESPONSE_URL_TTL_MS });
    return `${this.baseUrl()}/sandbox/response/${id}`;
  }

  /** Resolves a response_url id: valid for 30 minutes and 5 uses, as Slack documents; then it is dropped. */
  useResponseUrl(id: string): ResponseUrlTarget | null {
    this.dropExpired(this.responseUrls);
    const target = this.responseUrls.get(id);
    if (!target || this.now() > target.expiresAt) return null;
    target.uses += 1;
    if (target.uses >= RESPONSE_URL_USES) this.responseUrls.delete(id);
    return target;
  }

  /** How many trigger ids and response URLs the workspace still holds: a long-running sandbox drops spent ones. */
  heldInteractionTokens(): { triggers: number; responseUrls: number } {
    this.dropExpired(this.triggers);
    this.dropExpired(this.responseUrls);
    return { triggers: this.triggers.size, responseUrls: this.responseUrls.size };
  }

  /**
   * Drops expired entries from the front of a map in issue order: with one lifetime per map they
   * expire in that order, so this stops at the first live one.
   */
  private dropExpired(entries: Map<string, { expiresAt: number }>): void {
    const now = this.now();
    for (const [id, entry] of entries) {
      if (entry.expiresAt >= now) break;
      entries.delete(id);
    }
  }

  // --- views ---

  private storeView(user: string, view: Json, existing?: SandboxView): SandboxView {
    const blocks = assignIds(Array.isArray(view.blocks) ? (view.blocks as Json[]) : []);
    const id = existing?.id ?? this.newId('V');
    const stored: SandboxView = {
      id,
      team_id: this.team.id,
      type: view.type === 'home' ? 'home' : 'modal',
      user,
      ...(view.title ? { title: view.title as Json } : {}),
      ...(view.submit ? { submit: view.submit as Json } : {}),
      ...(view.close ? { close: view.close as Json } : {}),
      blocks,
      callback_id: typeof view.callback_id === 'string' ? view.callback_id : '',
      private_metadata: typeof view.private_metadata === 'string' ? view.private_metadata : '',
      external_id: typeof view.external_id === 'string' ? view.external_id : (existing?.external_id ?? ''),
      hash: `${Math.floor(this.now() / 1000)}.${randomBytes(6).toString('hex')}`,
      clear_on_close: view.clear_on_close === true,
      notify_on_close: view.notify_on_close === true,
      submit_disabled: view.submit_disabled === true,
      state: { values: carryState(blocks, existing?.state.values) },
      root_view_id: existing?.root_view_id ?? id,
      previous_view_id: existing?.previous_view_id ?? null,
      app_id: this.bot.app_id,
      bot_id: this.bot.bot_id,
      errors: {},
    };
    this.views.set(id, stored);
    return stored;
  }

  /** Opens a modal as the bottom of the person's stack (replacing whatever was open). */
  openModal(user: string, view: Json): SandboxView {
    for (const id of this.modalStacks.get(user) ?? []) this.views.delete(id);
    const stored = this.storeView(user, view);
    this.modalStacks.set(user, [stored.id]);
    this.emit({ kind: 'view', user, viewId: stored.id });
    return stored;
  }

  pushModal(user: string, view: Json): SandboxView {
    const stack = this.modalStacks.get(user) ?? [];
    if (stack.length === 0) throw new SlackApiError('view_not_found');
    if (stack.length >= MAX_MODAL_STACK) throw new SlackApiError('push_limit_reached');
    const stored = this.storeView(user, view);
    stored.root_view_id = stack[0]!;
    stored.previous_view_id = stack[stack.length - 1]!;
    stack.push(stored.id);
    this.emit({ kind: 'view', user, viewId: stored.id });
    return stored;
  }

  /** Replaces a view's content in place; its id stays, its hash changes, typed input survives. */
  updateView(existing: SandboxView, view: Json): SandboxView {
    const stored = this.storeView(existing.user, { ...view, type: existing.type }, existing);
    this.emit({ kind: existing.type === 'home' ? 'home' : 'view', user: existing.user, viewId: stored.id });
    return stored;
  }

  publishHome(user: string, view: Json): SandboxView {
    const existingId = this.homes.get(user);
    const existing = existingId ? this.views.get(existingId) : undefined;
    const stored = this.storeView(user, { ...view, type: 'home' }, existing);
    this.homes.set(user, stored.id);
    this.emit({ kind: 'home', user, viewId: stored.id });
    return stored;
  }

  findView(idOrExternal: { view_id?: unknown; external_id?: unknown }): SandboxView {
    if (typeof idOrExternal.view_id === 'string') {
      const view = this.views.get(idOrExternal.view_id);
      if (view) return view;
    } else if (typeof idOrExternal.external_id === 'string') {
      for (const view of this.views.values()) if (view.external_id === idOrExternal.external_id) return view;
    }
    throw new SlackApiError('not_found');
  }

  /** The person's open modals, bottom first. */
  modalStack(user: string): SandboxView[] {
    return (this.modalStacks.get(user) ?? []).flatMap((id) => this.views.get(id) ?? []);
  }

  /** The modal the person is looking at. */
  topModal(user: string): SandboxView | undefined {
    return this.modalStack(user).at(-1);
  }

  home(user: string): SandboxView | undefined {
    const id = this.homes.get(user);
    return id ? this.views.get(id) : undefined;
  }

  /** Closes the top modal (or, with `all`, the whole stack) for a person. */
  closeModal(user: string, viewId: string, all = false): void {
    const stack = this.modalStacks.get(user) ?? [];
    const index = stack.indexOf(viewId);
    if (index < 0) return;
    const removed = all ? stack.splice(0) : stack.splice(index);
    for (const id of removed) this.views.delete(id);
    this.emit({ kind: 'view', user, viewId });
  }

  // --- recording and faults ---

  record(call: SlackCall): void {
    // A long-running sandbox keeps the latest 5,000 calls (an index passed as `since` shifts past that).
    if (this.calls.push(call) > 5000) this.calls.splice(0, this.calls.length - 5000);
  }

  /** Recorded calls of one method (successful or not), oldest first. */
  callsTo(method: string): SlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** The next `count` calls of `method` (or any, with `*`) fail as given. */
  failNext(method: string, spec: FaultSpec = {}): void {
    this.faults.failNext(method, spec);
  }

  /** Takes the whole Web API down (503s, or dropped connections with 'unreachable') until set back to false. */
  setDown(mode: DownMode): void {
    this.faults.setDown(mode);
  }

  /** Turns on Slack's per-channel posting limit for chat.postMessage (about 1/s with a small burst). */
  enableRateLimit(settings: Partial<RateLimitSettings> = {}): void {
    this.rateLimiter.enable(settings);
  }

  disableRateLimit(): void {
    this.rateLimiter.disable();
  }

  /** Ends the requests held by `answerLost: 'hang'` faults (their connections drop). */
  releaseHeld(): number {
    return this.faults.releaseHeld();
  }

  /**
   * Lets the app connect over Socket Mode: `apps.connections.open` with `appToken` (an `xapp-`
   * token) answers `url`, the WebSocket server a test runs.
   */
  enableSocketMode(settings: { appToken: string; url: string }): void {
    this.socketMode = { ...settings };
  }

  /**
   * Waits until `check` returns something other than undefined/false, re-checking on every
   * workspace change and recorded call; rejects after `timeoutMs` with `what` in the message.
   */
  waitFor<T>(
    check: () => T | undefined | false | null,
    options: { timeoutMs?: number; what?: string } = {},
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise<T>((resolve, reject) => {
      const first = check();
      if (first !== undefined && first !== false && first !== null) return resolve(first);
      const poll = setInterval(() => attempt(), 20);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a workspace change'}`));
      }, timeoutMs);
      const unsubscribe = this.onChange(() => attempt());
      function cleanup() {
        clearInterval(poll);
        clearTimeout(timer);
        unsubscribe();
      }
      function attempt() {
        let result: T | undefined | false | null;
        try {
          result = check();
        } catch (err) {
          cleanup();
          reject(err);
          return;
        }
        if (result !== undefined && result !== false && result !== null) {
          cleanup();
          resolve(result);
        }
      }
    });
  }

  /** Waits for a recorded call of `method` matching `predicate` (made after `since`, an index into calls). */
  waitForCall(
    method: string,
    predicate: (call: SlackCall) => boolean = () => true,
    options: { timeoutMs?: number; since?: number } = {},
  ): Promise<SlackCall> {
    return this.waitFor(
      () => this.calls.slice(options.since ?? 0).find((call) => call.method === method && predicate(call)),
      { ...options, what: `a ${method} call` },
    );
  }

  /** Waits for a message in a channel (by id or name) matching `predicate`. */
  waitForMessage(
    channel: string,
    predicate: (message: SandboxMessage) => boolean = () => true,
    options: { timeoutMs?: number } = {},
  ): Promise<SandboxMessage> {
    return this.waitFor(
      () => {
        const id = this.findChannel(channel)?.id ?? channel;
        return this.allMessages(id).find(predicate);
      },
      { ...options, what: `a message in ${channel}` },
    );
  }

  /** Forgets messages, ephemerals, views, files and calls; keeps people and channels. */
  reset(): void {
    this.messages.clear();
    this.ephemerals = [];
    this.views.clear();
    this.modalStacks.clear();
    this.homes.clear();
    this.files.clear();
    this.triggers.clear();
    this.responseUrls.clear();
    this.calls.length = 0;
    this.faults.clear();
    this.rateLimiter.disable();
    this.emit({ kind: 'reset' });
  }
}
