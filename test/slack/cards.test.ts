import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replies, tickets } from '../../src/db/schema/index.js';
import { SEED } from '../../src/sandbox/index.js';
import { ACTIONS, OVERFLOW_OPTIONS } from '../../src/slack/ids.js';
import { recordReply } from '../../src/tickets/actions.js';
import { setAgentRole } from '../../src/tickets/agents.js';
import { getTicket } from '../../src/tickets/queries.js';
import { queueCardRefresh } from '../../src/tickets/timeline.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';
import { type SlackHarness, startSlackHarness } from './harness.js';

const FEEDBACK = SEED.channels.feedback;
const { agent1, agent2, viewer, lead } = SEED.users;

describe('ticket cards through the real Bolt receiver and the sandbox Slack', () => {
  let h: SlackHarness;
  let sourceId: number;

  beforeAll(async () => {
    h = await startSlackHarness();
    const db = h.earshot.context.db;
    sourceId = (await seedSource(db)).id;
    const admin = userActor(SEED.users.admin, 'admin');
    await setAgentRole(db, admin, { slackUserId: viewer, role: 'viewer' });
    await setAgentRole(db, admin, { slackUserId: lead, role: 'lead' });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function newTicket(text = 'My order never arrived and support is not answering') {
    const { ticket } = await ingestFixture(
      h.earshot.context.db,
      inboundFixture(sourceId, {
        text,
        author: { externalId: `a-${Math.random()}`, handle: 'dana', displayName: 'Dana' },
      }),
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    await h.drain();
    const posted = await getTicket(h.earshot.context.db, ticket.id);
    if (!posted?.slackTs) throw new Error('card was not posted');
    return posted;
  }

  function card(ts: string) {
    return h.sandbox.workspace.message(FEEDBACK, ts);
  }

  function actionIds(ts: string): string[] {
    return (
      JSON.stringify(card(ts).blocks)
        .match(/"action_id":"([a-z_]+)"/g)
        ?.map((m) => m.slice(13, -1)) ?? []
    );
  }

  function threadLines(ts: string): string[] {
    return h.sandbox.workspace
      .thread(FEEDBACK, ts)
      .filter((m) => m.ts !== ts)
      .map((m) => m.text);
  }

  function ephemeralsOf(user: string): string[] {
    return h.sandbox.workspace.ephemeralsFor(user).map((e) => e.text ?? '');
  }

  it('posts the card to the routed channel (resolving its name) and stores where it lives', async () => {
    const ticket = await newTicket();
    expect(ticket.channel).toBe(FEEDBACK);
    const message = card(ticket.slackTs!);
    expect(message.bot_id).toBe(SEED.bot.bot);
    expect(message.text).toContain('P3 complaint from @dana: My order never arrived');
    const json = JSON.stringify(message.blocks);
    expect(json).toContain('>My order never arrived and support is not answering');
    expect(json).toContain(`#${ticket.id}`);
    expect(actionIds(ticket.slackTs!)).toEqual([
      ACTIONS.claim,
      ACTIONS.reply,
      ACTIONS.tag,
      ACTIONS.escalate,
      ACTIONS.resolve,
      ACTIONS.overflow,
    ]);
    expect(h.sandbox.workspace.callsTo('chat.postMessage').every((c) => c.ok)).toBe(true);
  });

  it('claim, unclaim, resolve and reopen change the ticket, update the card in place and add a thread line', async () => {
    const ticket = await newTicket();
    const ts = ticket.slackTs!;
    const agent = h.sandbox.as(agent1);
    const updatesBefore = h.sandbox.workspace.callsTo('chat.update').length;

    expect((await agent.clickButton({ channel: FEEDBACK, ts }, ACTIONS.claim)).status).toBe(200);
    expect((await getTicket(h.earshot.context.db, ticket.id))?.assignee).toBe(agent1);
    await h.drain();
    expect(actionIds(ts)).toContain(ACTIONS.unclaim);
    expect(JSON.stringify(card(ts).blocks)).toContain(`<@${agent1}>`);
    expect(threadLines(ts)).toEqual([`<@${agent1}> claimed`]);

    await agent.clickButton({ channel: FEEDBACK, ts }, ACTIONS.unclaim);
    await h.drain();
    expect(actionIds(ts)).toContain(ACTIONS.claim);

    await agent.clickButton({ channel: FEEDBACK, ts }, ACTIONS.resolve);
    await h.drain();
    expect((await getTicket(h.earshot.context.db, ticket.id))?.status).toBe('resolved');
    expect(actionIds(ts)).toEqual([ACTIONS.reopen, ACTIONS.tag, ACTIONS.overflow]);

    await agent.clickButton({ channel: FEEDBACK, ts }, ACTIONS.reopen);
    await h.drain();
    expect((await getTicket(h.earshot.context.db, ticket.id))?.status).toBe('new');
    expect(threadLines(ts)).toEqual([
      `<@${agent1}> claimed`,
      `<@${agent1}> unclaimed; back in the queue`,
      `<@${agent1}> resolved`,
      `<@${agent1}> reopened`,
    ]);
    const updates = h.sandbox.workspace.callsTo('chat.update').slice(updatesBefore);
    expect(updates).toHaveLength(4);
    expect(updates.every((call) => call.args.ts === ts && call.ok)).toBe(true);
    // One card, updated in place: the channel has no second card for this ticket.
    expect(h.sandbox.workspace.channelMessages(FEEDBACK).filter((m) => m.text.includes(`#${ticket.id}`))).toHaveLength(
      0,
    );
  });

  it('a double click changes nothing the second time', async () => {
    const ticket = await newTicket();
    const agent = h.sandbox.as(agent2);
    await agent.clickButton({ channel: FEEDBACK, ts: ticket.slackTs! }, ACTIONS.claim);
    await agent.clickButton({ channel: FEEDBACK, ts: ticket.slackTs! }, ACTIONS.claim);
    await h.drain();
    expect(threadLines(ticket.slackTs!)).toEqual([`<@${agent2}> claimed`]);
    expect((await getTicket(h.earshot.context.db, ticket.id))?.version).toBe(ticket.version + 1);
  });

  it('refuses what a role does not allow, saying why, and changes nothing', async () => {
    const ticket = await newTicket();
    const before = h.sandbox.workspace.ephemeralsFor(viewer).length;
    const delivery = await h.sandbox.as(viewer).clickButton({ channel: FEEDBACK, ts: ticket.slackTs! }, ACTIONS.claim);
    expect(delivery.status).toBe(200);
    const said = ephemeralsOf(viewer).slice(before);
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('You need the agent role to do that (you are a viewer)');
    expect(said[0]).toContain('/earshot role');
    const after = await getTicket(h.earshot.context.db, ticket.id);
    expect(after?.version).toBe(ticket.version);
    expect(await h.pendingCount()).toBe(0);
  });

  it('tells the second of two agents who already holds the ticket', async () => {
    const ticket = await newTicket();
    await h.sandbox.as(agent1).clickButton({ channel: FEEDBACK, ts: ticket.slackTs! }, ACTIONS.claim);
    const before = ephemeralsOf(agent2).length;
    await h.sandbox.as(agent2).clickButton({ channel: FEEDBACK, ts: ticket.slackTs! }, ACTIONS.claim);
    const said = ephemeralsOf(agent2).slice(before);
    expect(said).toEqual([expect.stringContaining(`already claimed by <@${agent1}>`)]);
    expect((await getTicket(h.earshot.context.db, ticket.id))?.assignee).toBe(agent1);
  });

  it('overflow: copy link answers with the permalink, spam and close change the ticket', async () => {
    const ticket = await newTicket();
    const ts = ticket.slackTs!;
    const agent = h.sandbox.as(agent1);
    const before = ephemeralsOf(agent1).length;
    await agent.selectOverflow({ channel: FEEDBACK, ts }, ACTIONS.overflow, OVERFLOW_OPTIONS.copyLink);
    const said = ephemeralsOf(agent1).slice(before);
    expect(said).toEqual([expect.stringMatching(new RegExp(`^Link to ticket #${ticket.id}: http`))]);

    await agent.selectOverflow({ channel: FEEDBACK, ts }, ACTIONS.overflow, OVERFLOW_OPTIONS.spam);
    await h.drain();
    const spam = await getTicket(h.earshot.context.db, ticket.id);
    expect(spam?.status).toBe('closed');
    expect(spam?.spam).toBe(1);
    expect(JSON.stringify(card(ts).blocks)).toContain('Marked as spam');
    expect(threadLines(ts)).toEqual([`<@${agent1}> marked this as spam`]);

    const other = await newTicket();
    await h.sandbox.as(lead).clickButton({ channel: FEEDBACK, ts: other.slackTs! }, ACTIONS.resolve);
    await h.drain();
    await h.sandbox
      .as(lead)
      .selectOverflow({ channel: FEEDBACK, ts: other.slackTs! }, ACTIONS.overflow, OVERFLOW_OPTIONS.close);
    await h.drain();
    expect((await getTicket(h.earshot.context.db, other.id))?.status).toBe('closed');
    expect(threadLines(other.slackTs!)).toEqual([`<@${lead}> resolved`, `<@${lead}> closed`]);
  });

  it('quotes the customer’s follow-up in the thread and shows it on the card', async () => {
    const db = h.earshot.context.db;
    const author = { externalId: 'follow-up-author', handle: 'sam', displayName: 'Sam' };
    const first = await ingestFixture(
      db,
      inboundFixture(sourceId, { author, text: 'first message' }),
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    await h.drain();
    await ingestFixture(
      db,
      inboundFixture(sourceId, { author, text: 'still waiting <!channel>' }),
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    await h.drain();
    const [ticket] = await db.select().from(tickets).where(eq(tickets.id, first.ticket.id));
    expect(threadLines(ticket!.slackTs!)).toEqual(['The customer wrote:\n>still waiting &lt;!channel&gt;']);
    expect(JSON.stringify(card(ticket!.slackTs!).blocks)).toContain('Latest from the customer');
  });

  it('shows a failed reply on the card with a Retry reply button that queues it again', async () => {
    const db = h.earshot.context.db;
    const ticket = await newTicket();
    const { reply } = await recordReply(db, userActor(agent1), {
      ticketId: ticket.id,
      text: 'Sorry about that, we are on it',
      parts: ['Sorry about that, we are on it'],
      idempotencyKey: `retry-${ticket.id}`,
    });
    // What the replies worker leaves after X refused the post for good.
    await db
      .update(replies)
      .set({ status: 'failed', lastError: 'X answered 403 <!channel>' })
      .where(eq(replies.id, reply.id));
    const [current] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
    await queueCardRefresh(db, current!);
    await h.drain();
    const ts = ticket.slackTs!;
    expect(actionIds(ts)).toContain(ACTIONS.retryReply);
    expect(JSON.stringify(card(ts).blocks)).toContain('could not be posted: X answered 403 &lt;!channel&gt;');

    await h.sandbox.as(agent1).clickButton({ channel: FEEDBACK, ts }, ACTIONS.retryReply);
    const [queued] = await db.select().from(replies).where(eq(replies.id, reply.id));
    expect(queued?.status).toBe('pending');
    await h.drain();
    expect(actionIds(ts)).not.toContain(ACTIONS.retryReply);
    expect(threadLines(ts).at(-1)).toBe(`<@${agent1}> retried the reply`);
  });
  it('a customer follow-up reopens a resolved ticket: the card shows it, the thread says so', async () => {
    const db = h.earshot.context.db;
    const author = { externalId: 'reopen-author', handle: 'rae', displayName: 'Rae' };
    const first = await ingestFixture(
      db,
      inboundFixture(sourceId, { author, text: 'my refund never came', conversationId: 'conv-reopen' }),
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    await h.drain();
    const ts = (await getTicket(db, first.ticket.id))!.slackTs!;
    await h.sandbox.as(agent1).clickButton({ channel: FEEDBACK, ts }, ACTIONS.claim);
    await h.sandbox.as(agent1).clickButton({ channel: FEEDBACK, ts }, ACTIONS.resolve);
    await h.drain();
    expect(actionIds(ts)).toContain(ACTIONS.reopen);
    const updates = h.sandbox.workspace.callsTo('chat.update').filter((c) => c.args.ts === ts).length;

    const follow = await ingestFixture(
      db,
      inboundFixture(sourceId, { author, text: 'still nothing <!here>', conversationId: 'conv-reopen' }),
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    expect(follow.outcome).toBe('reopened');
    await h.drain();
    const reopened = await getTicket(db, first.ticket.id);
    expect(reopened?.status).toBe('claimed');
    expect(reopened?.assignee).toBe(agent1);
    expect(h.sandbox.workspace.callsTo('chat.update').filter((c) => c.args.ts === ts).length).toBeGreaterThan(updates);
    const blocks = JSON.stringify(card(ts).blocks);
    expect(blocks).toContain('Latest from the customer');
    expect(blocks).toContain('still nothing &lt;!here&gt;');
    expect(actionIds(ts)).toContain(ACTIONS.resolve);
    expect(threadLines(ts).at(-1)).toBe('The customer wrote again; reopened:\n>still nothing &lt;!here&gt;');
  });

  it('a double click on Resolve or Reopen is no error: at most a quiet note', async () => {
    const ticket = await newTicket();
    const ts = ticket.slackTs!;
    const agent = h.sandbox.as(agent2);
    const before = ephemeralsOf(agent2).length;
    await agent.clickButton({ channel: FEEDBACK, ts }, ACTIONS.resolve);
    await agent.clickButton({ channel: FEEDBACK, ts }, ACTIONS.resolve);
    await h.drain();
    expect((await getTicket(h.earshot.context.db, ticket.id))?.status).toBe('resolved');
    expect(threadLines(ts)).toEqual([`<@${agent2}> resolved`]);
    const said = ephemeralsOf(agent2).slice(before);
    expect(said).toEqual([`Ticket #${ticket.id} is already resolved.`]);
    await agent.clickButton({ channel: FEEDBACK, ts }, ACTIONS.reopen);
    await agent.clickButton({ channel: FEEDBACK, ts }, ACTIONS.reopen);
    await h.drain();
    expect(ephemeralsOf(agent2).slice(before).at(-1)).toBe(`Ticket #${ticket.id} is already open.`);
    expect(ephemeralsOf(agent2).slice(before).join('\n')).not.toMatch(/:no_entry:|:warning:/);
    expect(threadLines(ts)).toEqual([`<@${agent2}> resolved`, `<@${agent2}> reopened`]);
  });

  it('a ticket marked as spam stays closed when its author writes again in the thread', async () => {
    const db = h.earshot.context.db;
    const author = { externalId: 'spammer', handle: 'cheap_pills' };
    const first = await ingestFixture(
      db,
      inboundFixture(sourceId, { author, text: 'buy cheap pills', conversationId: 'conv-spam' }),
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    await h.drain();
    const ts = (await getTicket(db, first.ticket.id))!.slackTs!;
    await h.sandbox.as(agent1).selectOverflow({ channel: FEEDBACK, ts }, ACTIONS.overflow, OVERFLOW_OPTIONS.spam);
    await h.drain();
    const again = await ingestFixture(
      db,
      inboundFixture(sourceId, { author, text: 'buy more pills', conversationId: 'conv-spam' }),
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    expect(again.outcome).toBe('joined');
    expect(again.ticket.id).toBe(first.ticket.id);
    await h.drain();
    const after = await getTicket(db, first.ticket.id);
    expect(after?.status).toBe('closed');
    expect(after?.spam).toBe(1);
    expect(actionIds(ts)).toContain(ACTIONS.reopen);
    expect(threadLines(ts).join('\n')).not.toContain('reopened');
  });
});
