import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/index.js';
import { buildAction, buildBlockActions, buildSlashCommand } from '../../src/sandbox/slack-api/payloads.js';
import { ACTIONS, SLASH_COMMAND } from '../../src/slack/ids.js';
import { getTicket } from '../../src/tickets/queries.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource } from '../helpers/fixtures.js';
import { type SlackHarness, startSlackHarness } from './harness.js';
import { startSocketModeServer } from './socket-mode-server.js';

const APP_TOKEN = 'xapp-1-A0EARSHOT-sandbox';

describe('Socket Mode: SLACK_APP_TOKEN connects over a WebSocket and the same listeners answer', () => {
  let h: SlackHarness;
  let socket: Awaited<ReturnType<typeof startSocketModeServer>>;

  beforeAll(async () => {
    socket = await startSocketModeServer(SEED.bot.app);
    h = await startSlackHarness({
      env: { SLACK_APP_TOKEN: APP_TOKEN },
      // The sandbox must know the app-level token before Bolt asks apps.connections.open at start.
      beforeStart: (sandbox) => sandbox.workspace.enableSocketMode({ appToken: APP_TOKEN, url: socket.url }),
    });
  });
  afterAll(async () => {
    await h?.close();
    await socket?.close();
  });

  it('asked apps.connections.open with the app-level token and connected, with no HTTP route', () => {
    expect(h.slack.bolt.transport).toBe('socket');
    expect(h.slack.bolt.route).toBeNull();
    const opened = h.sandbox.workspace.callsTo('apps.connections.open');
    expect(opened).toHaveLength(1);
    expect(opened[0]?.ok).toBe(true);
    expect(socket.connections()).toBe(1);
  });

  it('acks a slash command envelope and answers through its response_url', async () => {
    const ws = h.sandbox.workspace;
    const channel = ws.channel(SEED.channels.feedback);
    const payload = buildSlashCommand(ws, {
      user: SEED.users.agent1,
      channel,
      command: SLASH_COMMAND,
      text: 'help',
      triggerId: ws.issueTrigger(SEED.users.agent1),
      responseUrl: ws.issueResponseUrl({
        user: SEED.users.agent1,
        channel: channel.id,
        command: `${SLASH_COMMAND} help`,
      }),
    });
    const ack = await socket.send('slash_commands', payload);
    expect(ack.envelope_id).toMatch(/^env-/);
    const answer = await ws.waitForCall('response_url');
    expect(JSON.stringify(answer.args)).toContain('/earshot queue');
    expect(answer.args.response_type).toBe('ephemeral');
  });

  it('acks a block_actions envelope and the click changes the ticket', async () => {
    const ws = h.sandbox.workspace;
    const db = h.earshot.context.db;
    const source = await seedSource(db);
    const { ticket } = await ingestFixture(
      db,
      inboundFixture(source.id, { author: { externalId: 'socket-1', handle: 'sock' } }),
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    await h.drain();
    const slackTs = (await getTicket(db, ticket.id))!.slackTs!;
    const message = ws.message(SEED.channels.feedback, slackTs);
    const block = (message.blocks ?? []).find((b) => JSON.stringify(b).includes(ACTIONS.claim))!;
    const element = (block.elements as Record<string, unknown>[]).find((e) => e.action_id === ACTIONS.claim)!;
    const channel = ws.channel(SEED.channels.feedback);
    const payload = buildBlockActions(ws, {
      user: SEED.users.agent2,
      container: { type: 'message', channel, message },
      action: buildAction(ws, block, element),
      triggerId: ws.issueTrigger(SEED.users.agent2),
      responseUrl: ws.issueResponseUrl({ user: SEED.users.agent2, channel: channel.id, messageTs: slackTs }),
    });
    const ack = await socket.send('interactive', payload);
    expect(ack.envelope_id).toBeTruthy();
    for (let i = 0; i < 50 && (await getTicket(db, ticket.id))?.assignee !== SEED.users.agent2; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await getTicket(db, ticket.id))?.assignee).toBe(SEED.users.agent2);
    await h.drain();
    expect(ws.thread(SEED.channels.feedback, slackTs).map((m) => m.text)).toContain(`<@${SEED.users.agent2}> claimed`);
  });
});
