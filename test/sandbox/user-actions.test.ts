import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SEED, signSlackRequest } from '../../src/sandbox/index.js';
import { type Heard, startBoltWithSandbox } from './bolt-app.js';
import { sandboxClient } from './helpers.js';

let env: Awaited<ReturnType<typeof startBoltWithSandbox>>;
let heard: Heard;

beforeEach(async () => {
  env = await startBoltWithSandbox();
  heard = env.heard;
});

afterEach(async () => {
  await env.stop();
});

const ws = () => env.sandbox.workspace;

describe('signing, verified by the real Bolt HTTPReceiver', () => {
  it('signs exactly as Slack: v0=hex(HMAC_SHA256(secret, "v0:ts:body"))', () => {
    // Slack's documented example request.
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toEqual({
      'x-slack-request-timestamp': '1531420618',
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    });
  });

  it('is accepted by Bolt; a forged signature and a stale timestamp are refused with 401', async () => {
    const agent = ws().as(SEED.users.agent1);
    const accepted = await agent.runCommand('/earshot', 'queue');
    expect(accepted.status).toBe(200);
    expect(heard.commands).toHaveLength(1);

    const body = new URLSearchParams({ command: '/earshot', text: 'queue', user_id: SEED.users.agent1 }).toString();
    const forged = await env.sandbox.workspace
      .as(SEED.users.agent1)
      .link.postSigned(body, 'application/x-www-form-urlencoded', {
        signingSecret: 'not-the-secret',
      });
    expect(forged.status).toBe(401);
    const stale = await agent.link.postSigned(body, 'application/x-www-form-urlencoded', {
      timestamp: Math.floor(Date.now() / 1000) - 10 * 60,
    });
    expect(stale.status).toBe(401);
    expect(heard.commands).toHaveLength(1);
  });
});

describe('slash commands', () => {
  it('sends Slack form fields, and shows respond() output as an ephemeral to the person', async () => {
    await ws().as(SEED.users.agent1).runCommand('/earshot', 'mine', { channel: 'earshot-oncall' });
    expect(heard.commands[0]).toMatchObject({
      command: '/earshot',
      text: 'mine',
      user_id: SEED.users.agent1,
      user_name: 'ana',
      channel_id: SEED.channels.oncall,
      channel_name: 'earshot-oncall',
      team_id: SEED.team,
      trigger_id: expect.any(String),
      response_url: expect.stringMatching(/\/sandbox\/response\//),
    });
    const ephemeral = ws().as(SEED.users.agent1).lastEphemeral('earshot-oncall');
    expect(ephemeral?.text).toBe('You asked for mine');
    expect(ws().ephemeralsFor(SEED.users.agent2)).toEqual([]);
    expect(ws().callsTo('response_url')).toHaveLength(1);
  });

  it('posts in_channel responses to the channel with the command shown', async () => {
    await ws().as(SEED.users.lead).runCommand('/earshot', 'share');
    const message = ws().lastMessage('earshot-feedback')!;
    expect(message.text).toBe('Queue: 3 open');
    expect(message.command_echo).toBe('/earshot share');
  });

  it('shows a message given in ack() itself', async () => {
    const delivery = await ws().as(SEED.users.agent1).runCommand('/earshot', 'ack');
    expect(delivery.body).toBe('Acknowledged in the ack');
    expect(ws().as(SEED.users.agent1).lastEphemeral()?.text).toBe('Acknowledged in the ack');
  });
});

describe('block actions', () => {
  it('clicks a card button with Slack payload shape; respond(replace_original) updates the card', async () => {
    await ws().as(SEED.users.lead).runCommand('/earshot', 'card');
    const card = ws().lastMessage('earshot-feedback')!;
    const agent = ws().as(SEED.users.agent1);
    const delivery = await agent.clickButton(card.ts, 'ticket_claim');
    expect(delivery.status).toBe(200);
    expect(heard.actions[0]).toMatchObject({
      type: 'block_actions',
      user: { id: SEED.users.agent1, username: 'ana' },
      container: { type: 'message', message_ts: card.ts, channel_id: SEED.channels.feedback, is_ephemeral: false },
      channel: { id: SEED.channels.feedback, name: 'earshot-feedback' },
      message: { ts: card.ts, text: 'Ticket 42' },
      trigger_id: expect.any(String),
      response_url: expect.any(String),
      actions: [
        {
          action_id: 'ticket_claim',
          block_id: 'ticket_actions:42',
          type: 'button',
          value: '42',
          style: 'primary',
          text: { type: 'plain_text', text: 'Claim' },
        },
      ],
    });
    const updated = ws().findMessage(SEED.channels.feedback, card.ts)!;
    expect(updated.text).toBe('Claimed by ana');
    expect(updated.blocks).toHaveLength(1);
    const thread = ws().thread(SEED.channels.feedback, card.ts);
    expect(thread.map((m) => m.text)).toEqual(['Claimed by ana', '@ana claimed']);
  });

  it('picks an overflow option', async () => {
    await ws().as(SEED.users.lead).runCommand('/earshot', 'card');
    const card = ws().lastMessage('earshot-feedback')!;
    await ws().as(SEED.users.agent2).selectOverflow(card.ts, 'ticket_overflow', 'spam');
    expect((heard.actions[0]?.actions as unknown[] | undefined)?.[0]).toMatchObject({
      type: 'overflow',
      selected_option: { value: 'spam', text: { text: 'Mark as spam' } },
    });
    expect(ws().as(SEED.users.agent2).lastEphemeral()?.text).toBe('Marked as spam');
  });

  it('says which action_ids exist when a test names a wrong one', async () => {
    await ws().as(SEED.users.lead).runCommand('/earshot', 'card');
    const card = ws().lastMessage('earshot-feedback')!;
    await expect(ws().as(SEED.users.agent1).clickButton(card.ts, 'nope')).rejects.toThrow(/ticket_claim/);
  });
});

describe('modals', () => {
  async function openTagModal() {
    await ws().as(SEED.users.lead).runCommand('/earshot', 'card');
    const card = ws().lastMessage('earshot-feedback')!;
    const agent = ws().as(SEED.users.agent1);
    await agent.clickButton(card.ts, 'ticket_tag');
    const view = agent.currentView();
    if (!view) throw new Error('the modal did not open');
    return { agent, view };
  }

  it('opens a modal from a trigger_id and submits view.state.values in Slack shape', async () => {
    const { agent, view } = await openTagModal();
    expect(view.callback_id).toBe('tag_modal');
    const result = await agent.submitView({
      tag_select: ['checkout', 'refund'],
      tag_new: 'billing',
      assignee: SEED.users.agent2,
    });
    expect(result.responseAction).toBe('close');
    expect(agent.currentView()).toBeUndefined();
    const submitted = heard.submissions[0] as { view: { state: { values: unknown }; private_metadata: string } };
    expect(submitted.view.private_metadata).toBe('{"ticketId":42}');
    expect(submitted.view.state.values).toEqual({
      tag_select: {
        value: {
          type: 'multi_static_select',
          selected_options: [
            { text: { type: 'plain_text', text: 'checkout' }, value: 'checkout' },
            { text: { type: 'plain_text', text: 'refund' }, value: 'refund' },
          ],
        },
      },
      tag_new: { value: { type: 'plain_text_input', value: 'billing' } },
      assignee: { value: { type: 'users_select', selected_user: SEED.users.agent2 } },
    });
  });

  it('keeps the modal open with errors under the field on response_action errors', async () => {
    const { agent, view } = await openTagModal();
    const result = await agent.submitView({ tag_new: 'bad tag' });
    expect(result.responseAction).toBe('errors');
    expect(result.errors).toEqual({ tag_new: 'Tags have no spaces' });
    expect(agent.currentView()?.id).toBe(view.id);
    expect(agent.currentView()?.errors).toEqual({ tag_new: 'Tags have no spaces' });
  });

  it('applies response_action update (same view id, typed input kept) and push', async () => {
    const { agent, view } = await openTagModal();
    const updated = await agent.submitView({ tag_new: 'more' });
    expect(updated.responseAction).toBe('update');
    expect(agent.currentView()?.id).toBe(view.id);
    expect(agent.currentView()?.title).toMatchObject({ text: 'Tag ticket (2)' });
    expect(agent.currentView()?.state.values.tag_new?.value).toMatchObject({ value: 'more' });

    const pushed = await agent.submitView({ tag_new: 'push' });
    expect(pushed.responseAction).toBe('push');
    expect(
      ws()
        .modalStack(SEED.users.agent1)
        .map((v) => v.id),
    ).toEqual([view.id, pushed.view?.id]);
  });

  it('dispatches typing and picks in a modal; views.update keeps typed text unless the block_id changes', async () => {
    const agent = ws().as(SEED.users.agent1);
    await agent.runCommand('/earshot', 'reply');
    const view = agent.currentView()!;
    await agent.choose({ viewId: view.id }, 'reply_text_changed', 'Hello there');
    const typed = heard.actions[0] as { view: { state: { values: Record<string, unknown> } }; actions: unknown[] };
    expect(typed.actions[0]).toMatchObject({ type: 'plain_text_input', value: 'Hello there', block_id: 'reply_text' });
    expect(typed.view.state.values.reply_text).toEqual({
      reply_text_changed: { type: 'plain_text_input', value: 'Hello there' },
    });
    const afterTyping = agent.currentView()!;
    expect(afterTyping.blocks[2]).toMatchObject({ elements: [{ text: '11 / 280 on X' }] });
    // Same block_id: what the person typed survives the update, as in Slack.
    expect(afterTyping.state.values.reply_text?.reply_text_changed).toMatchObject({ value: 'Hello there' });

    await agent.choose({ viewId: view.id }, 'reply_template_picked', 'sorry');
    const afterTemplate = agent.currentView()!;
    // A new block_id: the template text replaces what was typed.
    expect(afterTemplate.state.values['reply_text.1']?.reply_text_changed).toMatchObject({ value: 'We are sorry!' });
    expect(afterTemplate.state.values.reply_template?.reply_template_picked).toMatchObject({
      selected_option: { value: 'sorry' },
    });
  });

  it('sends view_closed when the modal asked for it', async () => {
    const { agent, view } = await openTagModal();
    await agent.closeView();
    expect(agent.currentView()).toBeUndefined();
    expect(heard.closed[0]).toMatchObject({ type: 'view_closed', view: { id: view.id } });
  });

  it('refuses an expired or reused trigger_id', async () => {
    const client = sandboxClient(env.sandbox.apiUrl());
    const trigger = ws().issueTrigger(SEED.users.agent1);
    const modal = { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] } as never;
    await client.views.open({ trigger_id: trigger, view: modal });
    await expect(client.views.open({ trigger_id: trigger, view: modal })).rejects.toMatchObject({
      data: { error: 'exchanged_trigger_id' },
    });
    await expect(client.views.open({ trigger_id: 'made-up', view: modal })).rejects.toMatchObject({
      data: { error: 'invalid_trigger_id' },
    });
  });

  it('refuses a modal title over 24 characters with invalid_arguments', async () => {
    const client = sandboxClient(env.sandbox.apiUrl());
    const trigger = ws().issueTrigger(SEED.users.agent1);
    await expect(
      client.views.open({
        trigger_id: trigger,
        view: { type: 'modal', title: { type: 'plain_text', text: 'x'.repeat(25) }, blocks: [] },
      }),
    ).rejects.toMatchObject({
      data: {
        error: 'invalid_arguments',
        response_metadata: { messages: [expect.stringContaining('/view/title/text')] },
      },
    });
  });
});

describe('events', () => {
  it('opening the App Home sends app_home_opened; the app publishes the home view', async () => {
    const agent = ws().as(SEED.users.agent2);
    await agent.openHome();
    expect(heard.events[0]).toMatchObject({ type: 'app_home_opened', user: SEED.users.agent2, tab: 'home' });
    expect(agent.home()?.blocks[0]).toMatchObject({ text: { text: `Queue for <@${SEED.users.agent2}>` } });
  });

  it('a mention posts the message and sends message and app_mention events', async () => {
    const { message, deliveries } = await ws()
      .as(SEED.users.agent1)
      .say('earshot-feedback', `<@${SEED.bot.user}> help`);
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]);
    expect(heard.events.map((e) => e.type)).toEqual(['message', 'app_mention']);
    const reply = await ws().waitForMessage(
      'earshot-feedback',
      (m) => m.thread_ts === message.ts && m.ts !== message.ts,
    );
    expect(reply.text).toBe(`Hi <@${SEED.users.agent1}>`);
  });

  it('replays an event with the same event_id and x-slack-retry-num', async () => {
    const agent = ws().as(SEED.users.agent1);
    const first = await agent.sendEvent({ type: 'app_home_opened', user: SEED.users.agent1, tab: 'home' });
    const eventId = String(first.payload.event_id);
    const retry = await agent.sendEvent(
      { type: 'app_home_opened', user: SEED.users.agent1, tab: 'home' },
      { eventId, retryNum: 1 },
    );
    expect(retry.payload.event_id).toBe(eventId);
    expect(retry.status).toBe(200);
    expect(env.sandbox.deliveries).toHaveLength(2);
  });
});
