import { WebAPIPlatformError, type WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSlackSandbox, SEED, type SlackSandbox } from '../../src/sandbox/index.js';
import { logger, sandboxClient, BOT_TOKEN as TOKEN } from './helpers.js';

let sandbox: SlackSandbox;
let client: WebClient;

beforeEach(async () => {
  sandbox = createSlackSandbox({
    signingSecret: 'secret',
    appEventsUrl: 'http://127.0.0.1:9/slack/events',
    botToken: TOKEN,
    logger,
  });
  await sandbox.listen();
  client = sandboxClient(sandbox.apiUrl());
});

afterEach(async () => {
  await sandbox.close();
});

async function slackError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WebAPIPlatformError) return err.data.error;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('auth', () => {
  it('answers auth.test for the bot token with the bot identity', async () => {
    const result = await client.auth.test();
    expect(result).toMatchObject({ ok: true, user_id: SEED.bot.user, bot_id: SEED.bot.bot, team_id: SEED.team });
  });

  it('refuses a wrong token with invalid_auth and a missing one with not_authed', async () => {
    const wrong = sandboxClient(sandbox.apiUrl(), {}, 'xoxb-wrong');
    expect(await slackError(wrong.auth.test())).toBe('invalid_auth');
    const response = await fetch(`${sandbox.apiUrl()}auth.test`, { method: 'POST' });
    expect(await response.json()).toEqual({ ok: false, error: 'not_authed' });
  });

  it('answers unknown_method for methods it does not know', async () => {
    expect(await slackError(client.apiCall('chat.scheduleMessage', { channel: 'x' }))).toBe('unknown_method');
  });
});

describe('chat.postMessage and chat.update', () => {
  it('posts by channel name or id, records the call with blocks decoded, and keeps the message', async () => {
    const byName = await client.chat.postMessage({
      channel: 'earshot-feedback',
      text: 'New ticket',
      blocks: [section('*Hello*')],
    });
    expect(byName.channel).toBe(SEED.channels.feedback);
    expect(byName.message?.bot_id).toBe(SEED.bot.bot);
    const byId = await client.chat.postMessage({ channel: SEED.channels.feedback, text: 'second' });
    expect(Number(byId.ts)).toBeGreaterThan(Number(byName.ts));

    const call = sandbox.workspace.callsTo('chat.postMessage')[0]!;
    expect(call.contentType).toBe('application/x-www-form-urlencoded');
    expect(call.args.blocks).toEqual([section('*Hello*')]);
    expect(call.ok).toBe(true);
    expect(sandbox.workspace.channelMessages(SEED.channels.feedback).map((m) => m.text)).toEqual([
      'New ticket',
      'second',
    ]);
  });

  it('accepts JSON bodies with a Bearer token as Slack does', async () => {
    const response = await fetch(`${sandbox.apiUrl()}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'earshot-oncall', text: 'json', blocks: [section('x')] }),
    });
    expect(await response.json()).toMatchObject({ ok: true, channel: SEED.channels.oncall });
    expect(sandbox.workspace.callsTo('chat.postMessage')[0]?.contentType).toBe('application/json');
  });

  it('answers channel_not_found, no_text, invalid_blocks and msg_too_long', async () => {
    expect(await slackError(client.chat.postMessage({ channel: 'nope', text: 'x' }))).toBe('channel_not_found');
    expect(await slackError(client.chat.postMessage({ channel: 'earshot-feedback', text: '' }))).toBe('no_text');
    expect(await slackError(client.chat.postMessage({ channel: 'earshot-feedback', text: 'x'.repeat(40_001) }))).toBe(
      'msg_too_long',
    );
    const tooMany = Array.from({ length: 51 }, (_, i) => section(`block ${i}`));
    expect(await slackError(client.chat.postMessage({ channel: 'earshot-feedback', text: 'x', blocks: tooMany }))).toBe(
      'invalid_blocks',
    );
  });

  it.each([
    ['section text over 3,000', [section('x'.repeat(3001))]],
    ['empty section text', [section('')]],
    ['header over 150', [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }]],
    ['mrkdwn header', [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }]],
    [
      'button text over 75',
      [
        {
          type: 'actions',
          elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'b'.repeat(76) } }],
        },
      ],
    ],
    ['eleven fields', [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) }]],
    [
      'duplicate block_id',
      [
        { ...section('a'), block_id: 'same' },
        { ...section('b'), block_id: 'same' },
      ],
    ],
    ['unknown block type', [{ type: 'carousel' }]],
  ])('refuses %s with invalid_blocks and says where', async (_name, blocks) => {
    try {
      await client.chat.postMessage({ channel: 'earshot-feedback', text: 'x', blocks: blocks as never });
      throw new Error('expected invalid_blocks');
    } catch (err) {
      expect(err).toBeInstanceOf(WebAPIPlatformError);
      const data = (err as WebAPIPlatformError).data;
      expect(data.error).toBe('invalid_blocks');
      expect(data.response_metadata?.messages?.[0]).toMatch(/\[ERROR\] .* \[json-pointer:\/blocks\/\d/);
    }
  });

  it('updates a message in place, keeping blocks when only text changes', async () => {
    const posted = await client.chat.postMessage({ channel: 'earshot-feedback', text: 'v1', blocks: [section('v1')] });
    const updated = await client.chat.update({ channel: posted.channel!, ts: posted.ts!, text: 'v2' });
    expect(updated.ts).toBe(posted.ts);
    const message = sandbox.workspace.findMessage(posted.channel!, posted.ts!)!;
    expect(message.text).toBe('v2');
    expect(message.blocks?.[0]).toMatchObject(section('v1'));
    expect(message.edited).toBeDefined();
    await client.chat.update({ channel: posted.channel!, ts: posted.ts!, text: 'v3', blocks: [section('v3')] });
    expect(sandbox.workspace.findMessage(posted.channel!, posted.ts!)?.blocks?.[0]).toMatchObject(section('v3'));
  });

  it('answers message_not_found when updating a message that does not exist', async () => {
    expect(await slackError(client.chat.update({ channel: 'earshot-feedback', ts: '1.000001', text: 'x' }))).toBe(
      'message_not_found',
    );
  });

  it('gives blocks without ids a block_id and elements an action_id, as Slack does', async () => {
    const posted = await client.chat.postMessage({
      channel: 'earshot-feedback',
      text: 'x',
      blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Go' } }] }],
    });
    const block = posted.message?.blocks?.[0] as { block_id?: string; elements?: { action_id?: string }[] };
    expect(block.block_id).toEqual(expect.any(String));
    expect(block.elements?.[0]?.action_id).toEqual(expect.any(String));
  });

  it('returns a permalink that names the channel and ts', async () => {
    const posted = await client.chat.postMessage({ channel: 'earshot-feedback', text: 'x' });
    const link = await client.chat.getPermalink({ channel: posted.channel!, message_ts: posted.ts! });
    expect(link.permalink).toBe(
      `${sandbox.apiUrl().replace(/\/api\/$/, '')}/archives/${posted.channel}/p${posted.ts!.replace('.', '')}`,
    );
    expect(await slackError(client.chat.getPermalink({ channel: posted.channel!, message_ts: '1.2' }))).toBe(
      'message_not_found',
    );
  });
});

describe('threads, ephemerals, history', () => {
  it('threads replies under their parent and lists them with conversations.replies', async () => {
    const parent = await client.chat.postMessage({ channel: 'earshot-feedback', text: 'card' });
    await client.chat.postMessage({ channel: 'earshot-feedback', text: 'claimed', thread_ts: parent.ts! });
    const second = await client.chat.postMessage({
      channel: 'earshot-feedback',
      text: 'tagged',
      thread_ts: parent.ts!,
    });
    // Replying to a reply lands in the same thread.
    await client.chat.postMessage({ channel: 'earshot-feedback', text: 'nested', thread_ts: second.ts! });

    const replies = await client.conversations.replies({ channel: parent.channel!, ts: parent.ts! });
    expect(replies.messages?.map((m) => m.text)).toEqual(['card', 'claimed', 'tagged', 'nested']);
    expect(replies.messages?.[0]).toMatchObject({ reply_count: 3, thread_ts: parent.ts });

    const history = await client.conversations.history({ channel: parent.channel! });
    expect(history.messages?.map((m) => m.text)).toEqual(['card']);
    expect(await slackError(client.conversations.replies({ channel: parent.channel!, ts: '1.1' }))).toBe(
      'thread_not_found',
    );
    expect(
      await slackError(client.chat.postMessage({ channel: 'earshot-feedback', text: 'x', thread_ts: '1.1' })),
    ).toBe('invalid_thread_ts');
  });

  it('pages history newest first with a cursor', async () => {
    for (const text of ['a', 'b', 'c']) await client.chat.postMessage({ channel: 'earshot-leads', text });
    const first = await client.conversations.history({ channel: SEED.channels.leads, limit: 2 });
    expect(first.messages?.map((m) => m.text)).toEqual(['c', 'b']);
    expect(first.has_more).toBe(true);
    const next = await client.conversations.history({
      channel: SEED.channels.leads,
      limit: 2,
      cursor: first.response_metadata?.next_cursor ?? '',
    });
    expect(next.messages?.map((m) => m.text)).toEqual(['a']);
  });

  it('keeps message metadata, shows it in history and replies only with include_all_metadata, and refuses bad metadata', async () => {
    const metadata = { event_type: 'earshot_ticket_card', event_payload: { ticket_id: 42 } };
    const card = await client.chat.postMessage({ channel: 'earshot-leads', text: 'card', metadata });
    await client.chat.postMessage({ channel: 'earshot-leads', text: 'line', thread_ts: card.ts!, metadata });
    const plain = await client.conversations.history({ channel: SEED.channels.leads });
    expect(plain.messages?.[0]).not.toHaveProperty('metadata');
    const full = await client.conversations.history({ channel: SEED.channels.leads, include_all_metadata: true });
    expect(full.messages?.[0]?.metadata).toEqual(metadata);
    const replies = await client.conversations.replies({
      channel: SEED.channels.leads,
      ts: card.ts!,
      include_all_metadata: true,
    });
    expect(replies.messages?.map((m) => m.metadata?.event_type)).toEqual([
      'earshot_ticket_card',
      'earshot_ticket_card',
    ]);
    expect(
      await slackError(
        client.chat.postMessage({ channel: 'earshot-leads', text: 'x', metadata: { event_type: 'x' } as never }),
      ),
    ).toBe('invalid_metadata_format');
  });

  it('answers msg_blocks_too_long past about 13k characters of block text', async () => {
    const blocks = Array.from({ length: 5 }, () => section('x'.repeat(2900)));
    expect(await slackError(client.chat.postMessage({ channel: 'earshot-leads', text: 'x', blocks }))).toBe(
      'msg_blocks_too_long',
    );
    const posted = await client.chat.postMessage({ channel: 'earshot-leads', text: 'x', blocks: blocks.slice(0, 4) });
    expect(posted.ok).toBe(true);
  });

  it('answers apps.connections.open only for the app-level token, with the Socket Mode URL', async () => {
    expect(await slackError(client.apps.connections.open({}))).toBe('not_allowed_token_type');
    sandbox.workspace.enableSocketMode({ appToken: 'xapp-1-test', url: 'ws://127.0.0.1:1/link' });
    const app = sandboxClient(sandbox.apiUrl(), {}, 'xapp-1-test');
    expect((await app.apps.connections.open({})).url).toBe('ws://127.0.0.1:1/link');
    expect(await slackError(sandboxClient(sandbox.apiUrl(), {}, 'xapp-1-other').apps.connections.open({}))).toBe(
      'invalid_auth',
    );
  });

  it('shows ephemerals only to their person, and refuses people outside the channel', async () => {
    const result = await client.chat.postEphemeral({
      channel: 'earshot-feedback',
      user: SEED.users.agent1,
      text: 'Only you can see this',
    });
    expect(result.message_ts).toEqual(expect.any(String));
    expect(sandbox.workspace.ephemeralsFor(SEED.users.agent1).map((e) => e.text)).toEqual(['Only you can see this']);
    expect(sandbox.workspace.ephemeralsFor(SEED.users.agent2)).toEqual([]);
    expect(
      await slackError(client.chat.postEphemeral({ channel: 'earshot-leads', user: SEED.users.agent1, text: 'x' })),
    ).toBe('user_not_in_channel');
  });
});

describe('conversations, users, user groups', () => {
  it('lists the seeded channels and answers conversations.info', async () => {
    const list = await client.conversations.list({ types: 'public_channel,private_channel' });
    expect(list.channels?.map((c) => c.name)).toEqual(['earshot-feedback', 'earshot-oncall', 'earshot-leads']);
    const info = await client.conversations.info({ channel: SEED.channels.oncall });
    expect(info.channel).toMatchObject({ id: SEED.channels.oncall, name: 'earshot-oncall', is_member: true });
    expect(await slackError(client.conversations.info({ channel: 'C404' }))).toBe('channel_not_found');
  });

  it('opens one DM per person and posts to it by user id too', async () => {
    const opened = await client.conversations.open({ users: SEED.users.lead });
    const again = await client.conversations.open({ users: SEED.users.lead });
    expect(opened.channel?.id).toMatch(/^D/);
    expect(again.channel?.id).toBe(opened.channel?.id);
    const posted = await client.chat.postMessage({ channel: SEED.users.lead, text: 'digest' });
    expect(posted.channel).toBe(opened.channel?.id);
  });

  it('describes people with their admin and owner flags', async () => {
    const admin = await client.users.info({ user: SEED.users.admin });
    expect(admin.user).toMatchObject({ id: SEED.users.admin, is_admin: true, is_owner: true, is_bot: false });
    const agent = await client.users.info({ user: SEED.users.agent1 });
    expect(agent.user).toMatchObject({ is_admin: false, is_owner: false, profile: { display_name: 'ana' } });
    expect(await slackError(client.users.info({ user: 'U404' }))).toBe('user_not_found');
    const list = await client.users.list({});
    expect(list.members?.map((m) => m.id)).toContain(SEED.users.viewer);
  });

  it('lists the oncall user group with its members', async () => {
    const groups = await client.usergroups.list({ include_users: true });
    expect(groups.usergroups?.[0]).toMatchObject({
      id: SEED.usergroups.oncall,
      handle: 'oncall',
      users: [SEED.users.lead, SEED.users.agent1],
    });
  });
});

describe('files.uploadV2', () => {
  it('runs the three-step upload and shares the file in the channel', async () => {
    const result = (await client.filesUploadV2({
      channel_id: SEED.channels.leads,
      filename: 'report.csv',
      content: 'a,b\n1,2\n',
      initial_comment: 'Weekly report',
    })) as unknown as { ok: boolean; files: { files: { id: string; name: string }[] }[] };
    expect(result.ok).toBe(true);
    const file = result.files[0]!.files[0]!;
    expect(file.name).toBe('report.csv');
    expect(sandbox.workspace.files.get(file.id)?.content?.toString()).toBe('a,b\n1,2\n');
    const message = sandbox.workspace.lastMessage(SEED.channels.leads)!;
    expect(message.text).toBe('Weekly report');
    expect(message.files?.[0]).toMatchObject({ id: file.id, name: 'report.csv' });
    expect(sandbox.workspace.calls.map((c) => c.method)).toEqual([
      'files.getUploadURLExternal',
      'files.completeUploadExternal',
    ]);
  });
});
