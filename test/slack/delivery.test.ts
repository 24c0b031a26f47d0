import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/database.js';
import { outbox, tickets } from '../../src/db/schema/index.js';
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
    h = await startSlackHarness({ env: { EARSHOT_BURST_THRESHOLD: '6', EARSHOT_BURST_WINDOW_MINUTES: '5' } });
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

  it('marks a row failed, with the error, when Slack refuses it for good, and goes on with the rest', async () => {
    const db = h.earshot.context.db;
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
    const [row] = await db.select().from(outbox).where(eq(outbox.ticketId, lost.ticket.id));
    expect(row?.status).toBe('failed');
    expect(row?.lastError).toBe('channel_not_found');
    expect((await getTicket(db, fine.ticket.id))?.slackTs).toBeTruthy();
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

    await claimTicket(db, userActor(SEED.users.agent2), { ticketId: folded[0]! });
    await h.drain();
    const worked = await getTicket(db, folded[0]!);
    expect(worked?.slackTs).toBeTruthy();
    expect(ws.thread(FEEDBACK, worked!.slackTs!).map((m) => m.text)).toContain(`<@${SEED.users.agent2}> claimed`);
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
