import type { Logger } from '../logger.js';
import { signSlackRequest } from './signing.js';
import { checkView } from './slack-api/block-limits.js';
import {
  type ActionContainer,
  buildAction,
  buildBlockActions,
  buildEventCallback,
  buildSlashCommand,
  buildViewClosed,
  buildViewSubmission,
} from './slack-api/payloads.js';
import type { Json, SandboxChannel, SandboxEphemeral, SandboxMessage, SandboxView } from './slack-api/types.js';
import { applyValues, type FriendlyValues, type InputValue, listElements } from './slack-api/view-state.js';
import type { SlackWorkspace } from './slack-api/workspace.js';

/** Slack's ack deadline: past it, Slack shows the person an error even if the app answers later. */
const ACK_DEADLINE_MS = 3000;
/** Deliveries remembered, newest last: enough for tests and the page, bounded for a long-running sandbox. */
export const KEPT_DELIVERIES = 1000;

/** How a request reached the app and what it answered. */
export interface AppDelivery {
  kind: 'command' | 'block_actions' | 'view_submission' | 'view_closed' | 'event' | 'url_verification';
  /** The payload as the app received it (form fields for commands, the JSON otherwise). */
  payload: Json;
  time: Date;
  status: number;
  /** The app's answer: parsed JSON when it sent JSON, else the text ('' for a bare ack). */
  body: unknown;
  durationMs: number;
  /** True when the app took longer than Slack's 3 seconds. */
  late: boolean;
  error?: string;
}

export interface DeliveryOptions {
  /** Retries of an event carry `x-slack-retry-num`, as Slack's do. */
  retryNum?: number;
  retryReason?: string;
  /** Sign with another secret: a forged request. */
  signingSecret?: string;
  /** Unix seconds to sign with: an old one makes a stale (replayed) request. */
  timestamp?: number;
}

export interface AppLinkOptions {
  signingSecret: string;
  /** The app's `/slack/events` URL; a function when the port is known only after listening. */
  appEventsUrl: string | (() => string);
  logger: Logger;
}

/**
 * Sends signed requests to the app's `/slack/events`, as Slack's servers do, and remembers each
 * delivery and the app's answer (the latest KEPT_DELIVERIES).
 */
export class AppLink {
  readonly deliveries: AppDelivery[] = [];
  private readonly log: Logger;

  constructor(private readonly options: AppLinkOptions) {
    this.log = options.logger.child({ component: 'slack-sandbox' });
  }

  get eventsUrl(): string {
    const { appEventsUrl } = this.options;
    return typeof appEventsUrl === 'function' ? appEventsUrl() : appEventsUrl;
  }

  /** POSTs a raw body to the app, signed; the lowest level, for signature tests. */
  async postSigned(
    rawBody: string,
    contentType: string,
    options: DeliveryOptions = {},
  ): Promise<{ status: number; text: string; headers: Headers; durationMs: number }> {
    const headers: Record<string, string> = {
      'content-type': contentType,
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...signSlackRequest(options.signingSecret ?? this.options.signingSecret, rawBody, options.timestamp),
    };
    if (options.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(options.retryNum);
      headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
    }
    const started = performance.now();
    const response = await fetch(this.eventsUrl, { method: 'POST', headers, body: rawBody });
    const text = await response.text();
    return { status: response.status, text, headers: response.headers, durationMs: performance.now() - started };
  }

  /** Delivers a payload in the encoding Slack uses for its kind, and records the answer. */
  async deliver(kind: AppDelivery['kind'], payload: Json, options: DeliveryOptions = {}): Promise<AppDelivery> {
    let raw: string;
    let contentType: string;
    if (kind === 'command') {
      raw = new URLSearchParams(payload as Record<string, string>).toString();
      contentType = 'application/x-www-form-urlencoded';
    } else if (kind === 'event' || kind === 'url_verification') {
      raw = JSON.stringify(payload);
      contentType = 'application/json';
    } else {
      raw = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      contentType = 'application/x-www-form-urlencoded';
    }
    let delivery: AppDelivery;
    try {
      const answer = await this.postSigned(raw, contentType, options);
      let body: unknown = answer.text;
      if ((answer.headers.get('content-type') ?? '').includes('json') && answer.text) {
        try {
          body = JSON.parse(answer.text);
        } catch {
          body = answer.text;
        }
      }
      delivery = {
        kind,
        payload,
        time: new Date(),
        status: answer.status,
        body,
        durationMs: Math.round(answer.durationMs),
        late: answer.durationMs > ACK_DEADLINE_MS,
      };
      if (delivery.late)
        this.log.warn({ kind, durationMs: delivery.durationMs }, 'the app took longer than 3 s to ack');
      if (answer.status !== 200) this.log.warn({ kind, status: answer.status }, 'the app did not accept a request');
    } catch (err) {
      this.log.warn({ err, kind }, 'the app could not be reached');
      delivery = {
        kind,
        payload,
        time: new Date(),
        status: 0,
        body: '',
        durationMs: 0,
        late: false,
        error: err instanceof Error ? err.message : String(err),
      };
    }
    this.deliveries.push(delivery);
    if (this.deliveries.length > KEPT_DELIVERIES) this.deliveries.splice(0, this.deliveries.length - KEPT_DELIVERIES);
    return delivery;
  }
}

/** What a modal submission led to, after the app's `response_action` was applied. */
export interface SubmitResult extends AppDelivery {
  responseAction: 'close' | 'errors' | 'update' | 'push' | 'clear' | 'failed';
  /** Validation errors by block_id when the app answered `errors`. */
  errors?: Record<string, string>;
  /** The view the person sees afterwards, if any. */
  view?: SandboxView;
}

/** Where an element lives: a message (by ts), an ephemeral the person sees, or a modal/App Home (by view id). */
export type ActionTarget = string | { viewId: string } | { channel: string; ts: string };

/**
 * One person in the sandbox workspace, acting as they would in Slack: slash commands, clicks,
 * selections, modal submissions, App Home visits, messages and mentions. Every action is sent to
 * the app's real `/slack/events`, signed.
 */
export class UserSession {
  constructor(
    readonly ws: SlackWorkspace,
    readonly link: AppLink,
    readonly userId: string,
  ) {
    ws.user(userId);
  }

  private channelOrDefault(channel?: string): SandboxChannel {
    if (channel) return this.ws.channel(channel);
    const first = [...this.ws.channels.values()].find((candidate) => !candidate.is_im && !candidate.is_mpim);
    if (!first) throw new Error('The sandbox workspace has no channel');
    return first;
  }

  /** Runs a slash command, e.g. `runCommand('/earshot', 'queue')`; an ack with a message shows it as Slack does. */
  async runCommand(command: string, text = '', options: { channel?: string } = {}): Promise<AppDelivery> {
    const channel = this.channelOrDefault(options.channel);
    const commandLine = `${command}${text ? ` ${text}` : ''}`;
    const responseUrl = this.ws.issueResponseUrl({ user: this.userId, channel: channel.id, command: commandLine });
    const payload = buildSlashCommand(this.ws, {
      user: this.userId,
      channel,
      command,
      text,
      triggerId: this.ws.issueTrigger(this.userId),
      responseUrl,
    });
    const delivery = await this.link.deliver('command', payload);
    if (delivery.status === 200) this.showAckMessage(channel, delivery.body, commandLine);
    return delivery;
  }

  private showAckMessage(channel: SandboxChannel, body: unknown, commandLine: string): void {
    let message: Json | null = null;
    if (typeof body === 'string' && body.trim()) message = { text: body };
    else if (body && typeof body === 'object') message = body as Json;
    if (!message || (message.text === undefined && message.blocks === undefined)) return;
    const content = {
      ...(typeof message.text === 'string' ? { text: message.text } : {}),
      ...(Array.isArray(message.blocks) ? { blocks: message.blocks as Json[] } : {}),
    };
    if (message.response_type === 'in_channel')
      this.ws.postMessage(channel, { ...content, command_echo: commandLine }, { bot: true });
    else this.ws.postEphemeral(channel, this.userId, content, 'response_url');
  }

  /** Finds the element with `actionId` wherever the target points, with the container for the payload. */
  private locate(target: ActionTarget, actionId: string): { container: ActionContainer; block: Json; element: Json } {
    let container: ActionContainer;
    let blocks: Json[];
    if (typeof target === 'object' && 'viewId' in target) {
      const view = this.ws.views.get(target.viewId);
      if (!view) throw new Error(`No view ${target.viewId}`);
      container = { type: 'view', view };
      blocks = view.blocks;
    } else {
      const ts = typeof target === 'string' ? target : target.ts;
      const ephemeral = this.ws.findEphemeral(ts);
      const message =
        typeof target === 'string' ? this.ws.locate(ts) : this.ws.findMessage(this.ws.channel(target.channel).id, ts);
      if (ephemeral && ephemeral.user === this.userId) {
        container = {
          type: 'ephemeral',
          channel: this.ws.channel(ephemeral.channel),
          ts,
          ...(ephemeral.thread_ts ? { threadTs: ephemeral.thread_ts } : {}),
        };
        blocks = ephemeral.blocks ?? [];
      } else if (message) {
        container = { type: 'message', channel: this.ws.channel(message.channel), message };
        blocks = message.blocks ?? [];
      } else if (typeof target === 'string' && this.ws.views.has(target)) {
        return this.locate({ viewId: target }, actionId);
      } else throw new Error(`No message, ephemeral or view ${JSON.stringify(target)} visible to ${this.userId}`);
    }
    const found = listElements(blocks).find(({ element }) => element.action_id === actionId);
    if (!found) {
      const known = listElements(blocks)
        .map(({ element }) => String(element.action_id))
        .join(', ');
      throw new Error(`No element with action_id "${actionId}" there (action_ids: ${known || 'none'})`);
    }
    return { container, ...found };
  }

  private async act(target: ActionTarget, actionId: string, chosen?: InputValue): Promise<AppDelivery> {
    const { container, block, element } = this.locate(target, actionId);
    if (container.type === 'view' && element.type !== 'button' && element.type !== 'overflow') {
      container.view.state.values = applyValues(container.view.blocks, container.view.state.values, {
        [String(block.block_id)]: { [actionId]: chosen ?? null },
      });
    }
    const responseUrl =
      container.type === 'view'
        ? undefined
        : this.ws.issueResponseUrl({
            user: this.userId,
            channel: container.channel.id,
            messageTs: container.type === 'message' ? container.message.ts : container.ts,
            ephemeral: container.type === 'ephemeral',
            ...(container.type === 'message' && container.message.thread_ts
              ? { threadTs: container.message.thread_ts }
              : {}),
          });
    const payload = buildBlockActions(this.ws, {
      user: this.userId,
      container,
      action: buildAction(this.ws, block, element, chosen),
      triggerId: this.ws.issueTrigger(this.userId),
      ...(responseUrl ? { responseUrl } : {}),
    });
    return this.link.deliver('block_actions', payload);
  }

  /** Clicks a button in a message (by ts), an ephemeral, or a modal/App Home (by view id). */
  clickButton(target: ActionTarget, actionId: string): Promise<AppDelivery> {
    return this.act(target, actionId);
  }

  /** Picks an option of an overflow menu. */
  selectOverflow(target: ActionTarget, actionId: string, optionValue: string): Promise<AppDelivery> {
    return this.act(target, actionId, optionValue);
  }

  /**
   * Chooses in a select, checkbox group, radio group or dispatching text input: option values,
   * user ids, conversation ids or text. In a modal this also updates the view's state, as Slack does.
   */
  choose(target: ActionTarget, actionId: string, value: InputValue): Promise<AppDelivery> {
    return this.act(target, actionId, value);
  }

  private modal(viewId?: string): SandboxView {
    const view = viewId ? this.ws.views.get(viewId) : this.ws.topModal(this.userId);
    if (!view || view.user !== this.userId)
      throw new Error(`${this.userId} has no open modal${viewId ? ` ${viewId}` : ''}`);
    return view;
  }

  /** Types into or chooses in a modal's inputs without submitting (inputs that dispatch nothing). */
  fillView(values: FriendlyValues, viewId?: string): SandboxView {
    const view = this.modal(viewId);
    view.state.values = applyValues(view.blocks, view.state.values, values);
    return view;
  }

  /**
   * Submits the modal (the top one unless `viewId` is given) with `values` filled in first
   * (`{ block_id: value }` or `{ block_id: { action_id: value } }`), then applies the app's
   * `response_action` to the sandbox's modal stack.
   */
  async submitView(values: FriendlyValues = {}, viewId?: string): Promise<SubmitResult> {
    const view = this.fillView(values, viewId);
    view.errors = {};
    const payload = buildViewSubmission(this.ws, {
      user: this.userId,
      view,
      triggerId: this.ws.issueTrigger(this.userId),
    });
    const delivery = await this.link.deliver('view_submission', payload);
    if (delivery.status !== 200) {
      view.errors = { '': 'We had some trouble connecting. Try again?' };
      this.ws.emit({ kind: 'view', user: this.userId, viewId: view.id });
      return { ...delivery, responseAction: 'failed', view };
    }
    const body = (delivery.body && typeof delivery.body === 'object' ? delivery.body : {}) as Json;
    const action = body.response_action;
    if (action === 'errors') {
      view.errors = { ...((body.errors as Record<string, string>) ?? {}) };
      this.ws.emit({ kind: 'view', user: this.userId, viewId: view.id });
      return { ...delivery, responseAction: 'errors', errors: view.errors, view };
    }
    if (action === 'update' || action === 'push') {
      const next = body.view as Json | undefined;
      const problems = checkView(next);
      if (problems.length > 0) {
        view.errors = { '': `The app answered an invalid view: ${problems.join('; ')}` };
        this.ws.emit({ kind: 'view', user: this.userId, viewId: view.id });
        return { ...delivery, responseAction: 'failed', view };
      }
      const shown = action === 'update' ? this.ws.updateView(view, next!) : this.ws.pushModal(this.userId, next!);
      return { ...delivery, responseAction: action, view: shown };
    }
    if (action === 'clear') {
      const root = this.ws.modalStack(this.userId)[0];
      if (root) this.ws.closeModal(this.userId, root.id, true);
      return { ...delivery, responseAction: 'clear' };
    }
    this.ws.closeModal(this.userId, view.id);
    const below = this.ws.topModal(this.userId);
    return { ...delivery, responseAction: 'close', ...(below ? { view: below } : {}) };
  }

  /** Closes the modal with its Close button; the app hears `view_closed` only if it asked (notify_on_close). */
  async closeView(viewId?: string): Promise<AppDelivery | null> {
    const view = this.modal(viewId);
    this.ws.closeModal(this.userId, view.id, view.clear_on_close);
    if (!view.notify_on_close) return null;
    return this.link.deliver('view_closed', buildViewClosed(this.ws, { user: this.userId, view }));
  }

  /** Opens the App Home tab: the app hears `app_home_opened`. */
  openHome(): Promise<AppDelivery> {
    const dm = this.ws.openDm(this.userId);
    const home = this.ws.home(this.userId);
    return this.sendEvent({
      type: 'app_home_opened',
      user: this.userId,
      channel: dm.id,
      tab: 'home',
      ...(home ? { view: { id: home.id, type: 'home', hash: home.hash, callback_id: home.callback_id } } : {}),
    });
  }

  /**
   * Posts a message as this person (it appears in the channel) and tells the app: a `message`
   * event, and an `app_mention` when the text mentions the bot.
   */
  async say(
    channel: string,
    text: string,
    options: { threadTs?: string } = {},
  ): Promise<{ message: SandboxMessage; deliveries: AppDelivery[] }> {
    const conversation = this.channelOrDefault(channel);
    const message = this.ws.postMessage(
      conversation,
      { text, ...(options.threadTs ? { thread_ts: options.threadTs } : {}) },
      { user: this.userId },
    );
    const base: Json = {
      user: this.userId,
      text,
      ts: message.ts,
      channel: conversation.id,
      team: this.ws.team.id,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
      blocks: [
        {
          type: 'rich_text',
          block_id: message.ts.replace('.', ''),
          elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text }] }],
        },
      ],
    };
    const channelType = conversation.is_im
      ? 'im'
      : conversation.is_mpim
        ? 'mpim'
        : conversation.is_private
          ? 'group'
          : 'channel';
    const deliveries = [await this.sendEvent({ type: 'message', ...base, channel_type: channelType })];
    if (text.includes(`<@${this.ws.bot.user_id}>`))
      deliveries.push(await this.sendEvent({ type: 'app_mention', ...base }));
    return { message, deliveries };
  }

  /** Sends an Events API callback; pass `eventId` and `retryNum` to replay it as Slack's retries do. */
  sendEvent(event: Json, options: DeliveryOptions & { eventId?: string } = {}): Promise<AppDelivery> {
    const { eventId, ...delivery } = options;
    return this.link.deliver('event', buildEventCallback(this.ws, event, eventId), delivery);
  }

  /** Ephemeral messages this person sees (in one channel, by id or name, if given). */
  ephemerals(channel?: string): SandboxEphemeral[] {
    return this.ws.ephemeralsFor(this.userId, channel ? this.ws.channel(channel).id : undefined);
  }

  lastEphemeral(channel?: string): SandboxEphemeral | undefined {
    return this.ephemerals(channel).at(-1);
  }

  /** The modal on top of this person's stack. */
  currentView(): SandboxView | undefined {
    return this.ws.topModal(this.userId);
  }

  /** This person's App Home, as last published. */
  home(): SandboxView | undefined {
    return this.ws.home(this.userId);
  }
}
