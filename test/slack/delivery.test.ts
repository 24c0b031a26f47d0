import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/database.js';
import { tickets } from '../../src/db/schema/index.js';
import { processItem } from '../../src/ingest/process-item.js';
import { storeItem } from '../../src/ingest/store-item.js';
import { SEED } from '../../src/sandbox/index.js';
import { ACTIONS, VIEWS } from '../../src/slack/ids.js';
import { claimTicket } from '../../src/tickets/actions.js';
import { getTicket } from '../../src/tickets/queries.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';
import { type SlackHarness, startSlackHarness } from './harness.js';

const FEEDBACK = SEED.channels.feedback;

/** Every control sequence in a message's mrkdwn (text fallback and mrkdwn text objects). */
function controlSequences(message: { text: string; blocks?: unknown[] }): string[] {
  const texts = [message.text];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const v = value as { type?: string; text?: unknown };
      if (v.type === 'mrkdwn' && typeof v.text === 'string') texts.push(v.text);
      Object.values(value).forEach(walk);
    }
  };
  walk(message.blocks ?? []);
  return texts.flatMap((text) => [...text.matchAll(/<([^>]*)>/g)].map((m) => m[1]!));
}

describe('delivery through the sandbox Slack: outages, bursts, hostile text', () => {
  let h: SlackHarness;
  let sourceId: number;

  beforeAll(async () => {
    // Digests without spacing: each test's burst gets its own digest at once (spacing: delivery-digest.test.ts).
    h = await startSlackHarness({
      env: { EARSHOT_BURST_THRESHOLD: '6', EARSHOT_BURST_WINDOW_MINUTES: '5' },
      module: { delivery: { digest: { threshold: 6, windowMinutes: 5, spacingMs: 0 } } },
    });
    sourceId = (await seedSource(h.earshot.context.db)).id;
  });
  afterAll(async () => {
    await h?.close();
  });

  function cardsOf(ticketIds: number[]) {
    const messages = h.sandbox.workspace.channelMessages(FEEDBACK);
    return ticketIds.map((id) => messages.filter((m) => JSON.stringify(m.blocks ?? []).includes(`· #${id}"`)));
  }

  it('after Slack answered 503s, 500s and a 429, every card arrives once, in order', async () => {
    const db = h.earshot.context.db;
    const ws = h.sandbox.workspace;
    ws.setDown(true);
    const ids: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      const { ticket } = await ingestFixture(
        db,
        inboundFixture(sourceId, { author: { externalId: `outage-${i}`, handle: `c${i}` }, text: `outage item ${i}` }),
        assessmentFixture({ channel: 'earshot-feedback', priority: 'P2' }),
      );
      ids.push(ticket.id);
    }
    // Claim one while Slack is down: its card must still come first, then its thread line.
    await claimTicket(db, userActor(SEED.users.agent1), { ticketId: ids[0]! });
    for (let round = 0; round < 5; round += 1) {
      await h.slack.delivery.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(ws.callsTo('chat.postMessage').every((call) => !call.ok)).toBe(true);
    expect(ws.channelMessages(FEEDBACK)).toHaveLength(0);

    ws.setDown(false);
    ws.failNext('chat.postMessage', { status: 500, count: 2 });
    ws.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    await h.drain(20_000);

    const cards = cardsOf(ids);
    expect(cards.map((found) => found.length)).toEqual(ids.map(() => 1));
    const order = cards.map((found) => Number(found[0]!.ts));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const calls = ws.callsTo('chat.postMessage');
    expect(calls.some((call) => call.status === 429)).toBe(true);
    expect(calls.some((call) => call.status === 500)).toBe(true);
    const first = await getTicket(db, ids[0]!);
    expect(ws.thread(FEEDBACK, first!.slackTs!).map((m) => m.text)).toContain(`<@${SEED.users.agent1}> claimed`);
    const failed = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from outbox where status = 'failed'`),
    );
    expect(failed[0]?.n).toBe(0);
  });

  it('posts a card whose channel Slack refuses in the feedback channel, with a note, and tells the leads', async () => {
    const db = h.earshot.context.db;
    const ws = h.sandbox.workspace;
    const lost = await ingestFixture(
      db,
      inboundFixture(sourceId, { author: { externalId: 'lost' } }),
      assessmentFixture({ channel: 'no-such-channel', priority: 'P2' }),
    );
    const fine = await ingestFixture(
      db,
      inboundFixture(sourceId, { author: { externalId: 'fine' } }),
      assessmentFixture({ channel: 'earshot-feedback', priority: 'P2' }),
    );
    await h.drain();
    const moved = await getTicket(db, lost.ticket.id);
    expect(moved?.channel).toBe(FEEDBACK);
    const card = ws.message(FEEDBACK, moved!.slackTs!);
    expect(JSON.stringify(card.blocks)).toContain(
      'Routed to #no-such-channel, but Slack refused that channel (`channel_not_found`); posted here instead.',
    );
    expect(JSON.stringify(card.blocks)).toContain(`#${lost.ticket.id}`);
    expect(ws.channelMessages(SEED.channels.leads).map((m) => m.text)).toContain(
      `:warning: Slack refused ticket #${lost.ticket.id}'s card in #no-such-channel (\`channel_not_found\`); it was posted in #earshot-feedback instead.`,
    );
    expect((await getTicket(db, fine.ticket.id))?.slackTs).toBeTruthy();
    // The card lives in the feedback channel now: later changes update it there, with thread lines.
    await claimTicket(db, userActor(SEED.users.agent1), { ticketId: lost.ticket.id });
    await h.drain();
    expect(ws.thread(FEEDBACK, moved!.slackTs!).map((m) => m.text)).toContain(`<@${SEED.users.agent1}> claimed`);
    expect(ws.callsTo('chat.update').at(-1)?.args.ts).toBe(moved!.slackTs);
    const leadLines = ws.channelMessages(SEED.channels.leads).filter((m) => m.text.includes(`#${lost.ticket.id}'s`));
    expect(leadLines).toHaveLength(1);
  });

  it('posts a card whose blocks Slack refuses as plain text, updates it the same way, and tells the leads once', async () => {
    const db = h.earshot.context.db;
    const ws = h.sandbox.workspace;
    ws.failNext('chat.postMessage', { error: 'invalid_blocks' });
    const { ticket } = await ingestFixture(
      db,
      inboundFixture(sourceId, { author: { externalId: 'blocky', handle: 'blocky' }, text: 'my parcel is late' }),
      assessmentFixture({ channel: 'earshot-feedback', priority: 'P2' }),
    );
    await h.drain();
    const posted = await getTicket(db, ticket.id);
    const card = ws.message(FEEDBACK, posted!.slackTs!);
    expect(card.blocks ?? []).toEqual([]);
    expect(card.text).toContain('P2 complaint from @blocky: my parcel is late');
    expect(card.text).toContain('Slack refused the layout of ticket #');
    expect((card.metadata as { event_payload?: { ticket_id?: number } }).event_payload?.ticket_id).toBe(ticket.id);

    ws.failNext('chat.update', { error: 'msg_blocks_too_long' });
    await claimTicket(db, userActor(SEED.users.agent2), { ticketId: ticket.id });
    await h.drain();
    expect(ws.message(FEEDBACK, posted!.slackTs!).text).toContain('msg_blocks_too_long');
    const leads = ws.channelMessages(SEED.channels.leads).filter((m) => m.text.includes(`ticket #${ticket.id}'s card`));
    expect(leads.map((m) => m.text)).toEqual([
      expect.stringContaining('(`invalid_blocks`); it was posted as plain text instead'),
      expect.stringContaining('(`msg_blocks_too_long`); it shows as plain text instead'),
    ]);
    const failed = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from outbox where status = 'failed'`),
    );
    expect(failed[0]?.n).toBe(0);
  });

  it('folds a burst of new P3/P4 items into one digest card; P1 keeps its card; a folded ticket gets its card when worked', async () => {
    const db = h.earshot.context.db;
    const ws = h.sandbox.workspace;
    const before = ws.channelMessages(FEEDBACK).length;
    const folded: number[] = [];
    for (let i = 0; i < 9; i += 1) {
      const { ticket } = await ingestFixture(
        db,
        inboundFixture(sourceId, {
          author: { externalId: `burst-${i}`, handle: `b${i}` },
          text: `checkout is broken ${i}`,
        }),
        assessmentFixture({ channel: 'earshot-feedback', priority: i % 2 ? 'P3' : 'P4' }),
      );
      folded.push(ticket.id);
    }
    const urgent = await ingestFixture(
      db,
      inboundFixture(sourceId, { author: { externalId: 'burst-urgent' }, text: 'security breach' }),
      assessmentFixture({ channel: 'earshot-feedback', priority: 'P1' }),
    );
    await h.drain();
    const posted = ws.channelMessages(FEEDBACK).slice(before);
    expect(posted).toHaveLength(2);
    const digest = posted.find((m) => m.text.startsWith('9 new items in the last 5 minutes'));
    expect(digest?.text).toBe('9 new items in the last 5 minutes: 9 complaints about checkout');
    expect((await getTicket(db, urgent.ticket.id))?.slackTs).toBeTruthy();
    for (const id of folded) expect((await getTicket(db, id))?.slackTs).toBeNull();

    await h.sandbox.as(SEED.users.agent2).clickButton({ channel: FEEDBACK, ts: digest!.ts }, ACTIONS.openDigest);
    const opened = ws.callsTo('views.open').at(-1)!;
    expect((opened.args.view as { callback_id?: string }).callback_id).toBe(VIEWS.digest);
    expect(JSON.stringify(opened.args.view)).toContain(`*#${folded[0]}*`);

    const lookups = ws.calls.filter((c) => c.method.startsWith('conversations.')).length;
    await claimTicket(db, userActor(SEED.users.agent2), { ticketId: folded[0]! });
    await h.drain();
    const worked = await getTicket(db, folded[0]!);
    expect(worked?.slackTs).toBeTruthy();
    expect(ws.thread(FEEDBACK, worked!.slackTs!).map((m) => m.text)).toContain(`<@${SEED.users.agent2}> claimed`);
    // Nothing had failed, so posting the folded ticket's card and its line looked nothing up.
    expect(ws.calls.filter((c) => c.method.startsWith('conversations.'))).toHaveLength(lookups);
  });

  it('stores a big burst’s tickets with its digest: the modal pages through all of them, PII masked', async () => {
    const db = h.earshot.context.db;
    const ws = h.sandbox.workspace;
    const before = ws.channelMessages(FEEDBACK).length;
    const ids: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const { ticket } = await ingestFixture(
        db,
        inboundFixture(sourceId, {
          author: { externalId: `wave-${i}`, handle: `w${i}` },
          text: i === 0 ? 'refund to dana.wave@example.com please' : `the app crashed again ${i}`,
        }),
        assessmentFixture({ channel: 'earshot-feedback', priority: 'P4' }),
      );
      ids.push(ticket.id);
    }
    await h.drain();
    const [digest, ...others] = ws.channelMessages(FEEDBACK).slice(before);
    expect(others).toHaveLength(0);
    expect(digest?.text).toMatch(/^100 new items in the last 5 minutes/);
    const button = JSON.stringify(digest?.blocks);
    expect(button).toContain('Open the 100 items');
    // The button carries the digest's id, not the ticket ids.
    expect(button).not.toContain(String(ids[50]));

    const agent = h.sandbox.as(SEED.users.agent1);
    await agent.clickButton({ channel: FEEDBACK, ts: digest!.ts }, ACTIONS.openDigest);
    const first = agent.currentView()!;
    const shown = (view: typeof first) =>
      [...JSON.stringify(view.blocks).matchAll(/\*#(\d+)\*/g)].map((m) => Number(m[1]));
    expect(shown(first)).toHaveLength(90);
    expect(JSON.stringify(first.blocks)).toContain('Items 1–90 of 100.');
    expect(JSON.stringify(first.blocks)).toContain('refund to [email] please');
    expect(JSON.stringify(first.blocks)).not.toContain('dana.wave@example.com');

    await agent.clickButton({ viewId: first.id }, ACTIONS.digestPage);
    const second = agent.currentView()!;
    expect(second.id).toBe(first.id);
    expect(JSON.stringify(second.blocks)).toContain('Items 91–100 of 100.');
    expect(JSON.stringify(second.blocks)).toContain('Previous 90');
    expect([...shown(first), ...shown(second)].sort((a, b) => a - b)).toEqual(ids);
  });

  it('posts hostile and oversize customer text as inert, valid cards', async () => {
    const db = h.earshot.context.db;
    const corpus = [
      '<!channel> refund now',
      '<!here> <!everyone>',
      'ping <@U123> and <@U0ADMIN>',
      '<!subteam^S1|@support> help',
      'log in at <https://evil.example|bank.com>',
      'literal &lt;!channel&gt; and &amp;',
      'مرحبا، طلبي لم يصل 😡🔥👨‍👩‍👧‍👦 \u202Egnp.exe',
      `${'<!channel> '.repeat(100)}${'x'.repeat(40_000)}`,
    ];
    const ids: number[] = [];
    for (const [i, text] of corpus.entries()) {
      const stored = await storeItem(
        db,
        inboundFixture(sourceId, {
          text,
          author: { externalId: `hostile-${i}`, handle: text.slice(0, 30), displayName: text.slice(0, 60) },
        }),
        { maxTextLength: 50_000 },
      );
      const { ticket } = await processItem(
        db,
        {
          itemId: stored.item.id,
          assessment: assessmentFixture({ channel: 'earshot-feedback', priority: 'P2', tags: [text.slice(0, 30)] }),
        },
        { groupingWindowMinutes: 0 },
      );
      ids.push(ticket.id);
    }
    await h.drain();
    for (const id of ids) {
      const ticket = await getTicket(db, id);
      expect(ticket?.slackTs, `ticket ${id} has a card`).toBeTruthy();
      const message = h.sandbox.workspace.message(FEEDBACK, ticket!.slackTs!);
      const controls = controlSequences(message as { text: string; blocks?: unknown[] });
      expect(
        controls.filter((c) => !c.startsWith('https://x.com/')),
        `live control sequences in #${id}`,
      ).toEqual([]);
    }
    const [row] = await db
      .select()
      .from(tickets)
      .where(eq(tickets.id, ids.at(-1)!));
    expect(row?.slackTs).toBeTruthy();
  });
});
