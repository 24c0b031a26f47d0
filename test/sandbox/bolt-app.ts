import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver } from '@slack/bolt';
import { createSlackSandbox, SEED, type SlackSandbox } from '../../src/sandbox/index.js';
import { BOT_TOKEN, logger, quietSlackLogger, SIGNING_SECRET } from './helpers.js';

/** What the tiny test app heard, so tests can check the payloads Bolt parsed. */
export interface Heard {
  commands: Record<string, unknown>[];
  actions: Record<string, unknown>[];
  submissions: Record<string, unknown>[];
  closed: Record<string, unknown>[];
  events: Record<string, unknown>[];
}

export const TAG_MODAL = {
  type: 'modal',
  callback_id: 'tag_modal',
  title: { type: 'plain_text', text: 'Tag ticket' },
  submit: { type: 'plain_text', text: 'Save' },
  close: { type: 'plain_text', text: 'Cancel' },
  notify_on_close: true,
  private_metadata: '{"ticketId":42}',
  blocks: [
    {
      type: 'input',
      block_id: 'tag_select',
      optional: true,
      label: { type: 'plain_text', text: 'Tags' },
      element: {
        type: 'multi_static_select',
        action_id: 'value',
        options: [
          { text: { type: 'plain_text', text: 'checkout' }, value: 'checkout' },
          { text: { type: 'plain_text', text: 'refund' }, value: 'refund' },
        ],
      },
    },
    {
      type: 'input',
      block_id: 'tag_new',
      optional: true,
      label: { type: 'plain_text', text: 'New tag' },
      element: { type: 'plain_text_input', action_id: 'value' },
    },
    {
      type: 'input',
      block_id: 'assignee',
      optional: true,
      label: { type: 'plain_text', text: 'Assignee' },
      element: { type: 'users_select', action_id: 'value' },
    },
  ],
} as const;

/** A reply modal whose text input dispatches on every character, like Earshot's: the app updates a live count. */
export function replyModal(text: string, revision = 0) {
  return {
    type: 'modal',
    callback_id: 'reply_modal',
    title: { type: 'plain_text', text: 'Reply' },
    submit: { type: 'plain_text', text: 'Send' },
    blocks: [
      {
        type: 'input',
        block_id: 'reply_template',
        optional: true,
        dispatch_action: true,
        label: { type: 'plain_text', text: 'Template' },
        element: {
          type: 'static_select',
          action_id: 'reply_template_picked',
          options: [{ text: { type: 'plain_text', text: 'Apology' }, value: 'sorry' }],
        },
      },
      {
        type: 'input',
        block_id: revision === 0 ? 'reply_text' : `reply_text.${revision}`,
        dispatch_action: true,
        label: { type: 'plain_text', text: 'Reply on X' },
        element: {
          type: 'plain_text_input',
          action_id: 'reply_text_changed',
          multiline: true,
          dispatch_action_config: { trigger_actions_on: ['on_character_entered'] },
          ...(text ? { initial_value: text } : {}),
        },
      },
      { type: 'context', block_id: 'reply_preview', elements: [{ type: 'mrkdwn', text: `${text.length} / 280 on X` }] },
    ],
  };
}

export const CARD_BLOCKS = [
  { type: 'section', block_id: 'ticket:42', text: { type: 'mrkdwn', text: '*Ticket 42*' } },
  {
    type: 'actions',
    block_id: 'ticket_actions:42',
    elements: [
      {
        type: 'button',
        action_id: 'ticket_claim',
        text: { type: 'plain_text', text: 'Claim' },
        value: '42',
        style: 'primary',
      },
      { type: 'button', action_id: 'ticket_tag', text: { type: 'plain_text', text: 'Tag' }, value: '42' },
      {
        type: 'overflow',
        action_id: 'ticket_overflow',
        options: [
          { text: { type: 'plain_text', text: 'Mark as spam' }, value: 'spam' },
          { text: { type: 'plain_text', text: 'Copy link' }, value: 'copy_link' },
        ],
      },
    ],
  },
];

/**
 * A tiny real Bolt app (HTTPReceiver, processBeforeResponse) wired to a sandbox both ways: its
 * WebClient calls the sandbox's Web API, the sandbox sends it signed payloads.
 */
export async function startBoltWithSandbox(): Promise<{
  app: App;
  sandbox: SlackSandbox;
  heard: Heard;
  eventsUrl: string;
  stop: () => Promise<void>;
}> {
  let eventsUrl = '';
  const sandbox = createSlackSandbox({
    signingSecret: SIGNING_SECRET,
    appEventsUrl: () => eventsUrl,
    botToken: BOT_TOKEN,
    logger,
  });
  await sandbox.listen();
  const receiver = new HTTPReceiver({
    signingSecret: SIGNING_SECRET,
    processBeforeResponse: true,
    logger: quietSlackLogger,
  });
  const app = new App({
    token: BOT_TOKEN,
    receiver,
    botId: SEED.bot.bot,
    botUserId: SEED.bot.user,
    tokenVerificationEnabled: false,
    logger: quietSlackLogger,
    clientOptions: { slackApiUrl: sandbox.apiUrl(), retryConfig: { retries: 0 } },
  });
  const heard: Heard = { commands: [], actions: [], submissions: [], closed: [], events: [] };

  app.command('/earshot', async ({ command, ack, respond, client }) => {
    heard.commands.push(command as unknown as Record<string, unknown>);
    if (command.text === 'ack') return ack('Acknowledged in the ack');
    await ack();
    if (command.text === 'share') await respond({ response_type: 'in_channel', text: 'Queue: 3 open' });
    else if (command.text === 'tag')
      await client.views.open({ trigger_id: command.trigger_id, view: TAG_MODAL as never });
    else if (command.text === 'reply')
      await client.views.open({ trigger_id: command.trigger_id, view: replyModal('') as never });
    else if (command.text === 'card')
      await client.chat.postMessage({ channel: command.channel_id, text: 'Ticket 42', blocks: CARD_BLOCKS as never });
    else await respond({ text: `You asked for ${command.text || 'help'}` });
  });

  app.action('ticket_claim', async ({ ack, body, respond, client }) => {
    heard.actions.push(body as unknown as Record<string, unknown>);
    await ack();
    const message = (body as { message?: { ts: string } }).message;
    await respond({ replace_original: true, text: 'Claimed by ana', blocks: [CARD_BLOCKS[0]] as never });
    if (message)
      await client.chat.postMessage({
        channel: (body as { channel: { id: string } }).channel.id,
        thread_ts: message.ts,
        text: '@ana claimed',
      });
  });

  app.action('ticket_tag', async ({ ack, body, client }) => {
    heard.actions.push(body as unknown as Record<string, unknown>);
    await ack();
    await client.views.open({ trigger_id: (body as { trigger_id: string }).trigger_id, view: TAG_MODAL as never });
  });

  app.action('ticket_overflow', async ({ ack, body, respond }) => {
    heard.actions.push(body as unknown as Record<string, unknown>);
    await ack();
    await respond({ text: 'Marked as spam' });
  });

  app.action('reply_text_changed', async ({ ack, body, client }) => {
    heard.actions.push(body as unknown as Record<string, unknown>);
    await ack();
    const view = (body as { view: { id: string; hash: string } }).view;
    const action = (body as { actions: { value: string | null }[] }).actions[0];
    const text = action?.value ?? '';
    const updated = replyModal('', 0);
    updated.blocks[2] = {
      type: 'context',
      block_id: 'reply_preview',
      elements: [{ type: 'mrkdwn', text: `${text.length} / 280 on X` }],
    };
    await client.views.update({ view_id: view.id, hash: view.hash, view: updated as never });
  });

  app.action('reply_template_picked', async ({ ack, body, client }) => {
    heard.actions.push(body as unknown as Record<string, unknown>);
    await ack();
    const view = (body as { view: { id: string } }).view;
    await client.views.update({ view_id: view.id, view: replyModal('We are sorry!', 1) as never });
  });

  app.view('tag_modal', async ({ ack, view, body }) => {
    heard.submissions.push(body as unknown as Record<string, unknown>);
    const newTag = view.state.values.tag_new?.value?.value;
    if (newTag === 'bad tag') return ack({ response_action: 'errors', errors: { tag_new: 'Tags have no spaces' } });
    if (newTag === 'more')
      return ack({
        response_action: 'update',
        view: { ...TAG_MODAL, title: { type: 'plain_text', text: 'Tag ticket (2)' } } as never,
      });
    if (newTag === 'push')
      return ack({
        response_action: 'push',
        view: { type: 'modal', title: { type: 'plain_text', text: 'Sure?' }, blocks: [] } as never,
      });
    return ack();
  });

  app.view({ callback_id: 'tag_modal', type: 'view_closed' }, async ({ ack, body }) => {
    heard.closed.push(body as unknown as Record<string, unknown>);
    await ack();
  });

  app.event('app_home_opened', async ({ event, client }) => {
    heard.events.push(event as unknown as Record<string, unknown>);
    await client.views.publish({
      user_id: event.user,
      view: {
        type: 'home',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `Queue for <@${event.user}>` } }],
      },
    });
  });

  app.event('app_mention', async ({ event, say }) => {
    heard.events.push(event as unknown as Record<string, unknown>);
    await say({ text: `Hi <@${event.user}>`, thread_ts: event.ts });
  });

  app.message(async ({ message }) => {
    heard.events.push(message as unknown as Record<string, unknown>);
  });

  const server = await app.start(0);
  const { port } = server.address() as AddressInfo;
  eventsUrl = `http://127.0.0.1:${port}/slack/events`;
  return {
    app,
    sandbox,
    heard,
    eventsUrl,
    stop: async () => {
      // A test may have stopped the app already to see how the sandbox copes.
      await app.stop().catch(() => {});
      await sandbox.close();
    },
  };
}
