import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/index.js';
import { ACTIONS, OVERFLOW_OPTIONS } from '../../src/slack/ids.js';
import { getTicket } from '../../src/tickets/queries.js';
import { hasRealPostgres } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource } from '../helpers/fixtures.js';
import { createPostgresDatabase, logSink, type SlackHarness, startSlackHarness } from './harness.js';

const FEEDBACK = SEED.channels.feedback;
const { agent1, agent2 } = SEED.users;

async function postedTicket(h: SlackHarness, sourceId: number, key: string) {
  const { ticket } = await ingestFixture(
    h.earshot.context.db,
    inboundFixture(sourceId, { author: { externalId: key } }),
    assessmentFixture({ channel: 'earshot-feedback' }),
  );
  await h.drain();
  const posted = await getTicket(h.earshot.context.db, ticket.id);
  if (!posted?.slackTs) throw new Error('card was not posted');
  return posted;
}

describe('the Slack HTTP receiver', () => {
  let h: SlackHarness;
  let sourceId: number;
  const sink = logSink();

  beforeAll(async () => {
    h = await startSlackHarness({ logger: sink.logger });
    sourceId = (await seedSource(h.earshot.context.db)).id;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers 401 to a forged signature and to a stale timestamp, and nothing changes', async () => {
    const ticket = await postedTicket(h, sourceId, 'forged');
    const session = h.sandbox.as(agent1);
    await session.clickButton({ channel: FEEDBACK, ts: ticket.slackTs! }, ACTIONS.claim);
    const claim = h.sandbox.deliveries.at(-1)!;
    await h.drain();
    await session.clickButton({ channel: FEEDBACK, ts: ticket.slackTs! }, ACTIONS.unclaim);
    const before = await getTicket(h.earshot.context.db, ticket.id);
    expect(before?.assignee).toBeNull();

    const forged = await session.link.deliver('block_actions', claim.payload, { signingSecret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    const stale = await session.link.deliver('block_actions', claim.payload, {
      timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    expect(stale.status).toBe(401);
    const after = await getTicket(h.earshot.context.db, ticket.id);
    expect(after?.assignee).toBeNull();
    expect(after?.version).toBe(before?.version);

    // Bolt's own warning about the refused request reaches Earshot's pino log.
    expect(sink.lines.some((l) => l.component === 'bolt' && String(l.msg).includes('verify'))).toBe(true);

    const genuine = await session.link.deliver('block_actions', claim.payload);
    expect(genuine.status).toBe(200);
    expect((await getTicket(h.earshot.context.db, ticket.id))?.assignee).toBe(agent1);
  });

  it('handles an event once: Slack’s retry with the same event_id changes nothing', async () => {
    const ws = h.sandbox.workspace;
    const session = h.sandbox.as(agent2);
    const since = ws.calls.length;
    const { deliveries } = await session.say(FEEDBACK, `<@${SEED.bot.user}> what can you do?`);
    const mention = deliveries.find((d) => (d.payload as { event?: { type?: string } }).event?.type === 'app_mention');
    expect(mention?.status).toBe(200);
    const replies = () => ws.calls.slice(since).filter((c) => c.method === 'chat.postMessage');
    expect(replies()).toHaveLength(1);
    expect(String(replies()[0]!.args.text)).toContain('/earshot help');

    const retry = await session.link.deliver('event', mention!.payload, { retryNum: 1, retryReason: 'http_timeout' });
    expect(retry.status).toBe(200);
    const again = await session.link.deliver('event', mention!.payload, { retryNum: 2 });
    expect(again.status).toBe(200);
    expect(replies()).toHaveLength(1);
  });

  it('tells the user when something unexpected failed, and logs it with the context', async () => {
    const ticket = await postedTicket(h, sourceId, 'unexpected');
    h.sandbox.workspace.failNext('chat.getPermalink', { status: 500 });
    const before = h.sandbox.workspace.ephemeralsFor(agent1).length;
    const answer = await h.sandbox
      .as(agent1)
      .selectOverflow({ channel: FEEDBACK, ts: ticket.slackTs! }, ACTIONS.overflow, OVERFLOW_OPTIONS.copyLink);
    expect(answer.status).toBe(200);
    const said = h.sandbox.workspace
      .ephemeralsFor(agent1)
      .slice(before)
      .map((e) => e.text ?? '');
    expect(said).toEqual([expect.stringContaining("Something failed on Earshot's side")]);
    const ref = /ref `([0-9a-f]+)`/.exec(said[0]!)?.[1];
    const logged = sink.lines.find((l) => l.msg === 'Slack action failed' && l.ref === ref);
    expect(logged).toMatchObject({ action: 'copy_link', userId: agent1, ticketId: ticket.id, level: 50 });
    expect(logged?.err).toBeTruthy();
  });

  it('answers url_verification', async () => {
    const answer = await h.sandbox.as(agent1).link.deliver('url_verification', {
      type: 'url_verification',
      token: 'x',
      challenge: 'abc123',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ challenge: 'abc123' });
  });
});

describe.skipIf(!hasRealPostgres)('two agents claiming at once [postgres]', () => {
  let h: SlackHarness;
  let drop: () => Promise<void>;
  let sourceId: number;

  beforeAll(async () => {
    const database = await createPostgresDatabase();
    drop = database.drop;
    h = await startSlackHarness({ databaseUrl: database.url });
    sourceId = (await seedSource(h.earshot.context.db)).id;
  });
  afterAll(async () => {
    await h?.close();
    await drop?.();
  });

  it('gives the ticket to exactly one; the other is told who has it; one thread line', async () => {
    for (let round = 0; round < 3; round += 1) {
      const ticket = await postedTicket(h, sourceId, `race-${round}`);
      const target = { channel: FEEDBACK, ts: ticket.slackTs! };
      const ws = h.sandbox.workspace;
      const before = [agent1, agent2].map((u) => ws.ephemeralsFor(u).length);
      await Promise.all([
        h.sandbox.as(agent1).clickButton(target, ACTIONS.claim),
        h.sandbox.as(agent2).clickButton(target, ACTIONS.claim),
      ]);
      await h.drain();
      const after = await getTicket(h.earshot.context.db, ticket.id);
      const winner = after!.assignee!;
      const loser = winner === agent1 ? agent2 : agent1;
      expect([agent1, agent2]).toContain(winner);
      const loserIndex = loser === agent1 ? 0 : 1;
      expect(
        ws
          .ephemeralsFor(loser)
          .slice(before[loserIndex])
          .map((e) => e.text),
      ).toEqual([expect.stringContaining(`already claimed by <@${winner}>`)]);
      const lines = ws.thread(FEEDBACK, ticket.slackTs!).filter((m) => m.ts !== ticket.slackTs);
      expect(lines.map((m) => m.text)).toEqual([`<@${winner}> claimed`]);
    }
  });
});
