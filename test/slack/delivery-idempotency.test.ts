import { WebClient } from '@slack/web-api';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { outbox } from '../../src/db/schema/index.js';
import { createLogger } from '../../src/logger.js';
import { SEED } from '../../src/sandbox/index.js';
import { createDeliveryWorker } from '../../src/slack/delivery/worker.js';
import { MESSAGE_METADATA } from '../../src/slack/ids.js';
import { claimTicket } from '../../src/tickets/actions.js';
import { getTicket } from '../../src/tickets/queries.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';
import { BOT_TOKEN, type SlackHarness, shiftableClock, startSlackHarness } from './harness.js';

const FEEDBACK = SEED.channels.feedback;

const KINDS = process.env.TEST_DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

describe.each(KINDS)('posting is idempotent: a post whose answer was lost is found, not repeated [%s]', (kind) => {
  let h: SlackHarness;
  let sourceId: number;
  const clock = shiftableClock();

  beforeAll(async () => {
    h = await startSlackHarness({
      clock: clock.now,
      env: { EARSHOT_BURST_THRESHOLD: '0' },
      database: kind,
    });
    sourceId = (await seedSource(h.earshot.context.db)).id;
  });
  afterAll(async () => {
    h?.sandbox.workspace.releaseHeld();
    await h?.close();
  });
  beforeEach(() => {
    h.sandbox.workspace.clearCalls();
  });

  async function newTicket(name: string) {
    const { ticket } = await ingestFixture(
      h.earshot.context.db,
      inboundFixture(sourceId, { author: { externalId: name, handle: name }, text: `${name} never got the parcel` }),
      assessmentFixture({ channel: 'earshot-feedback', priority: 'P2' }),
    );
    return ticket;
  }

  /** The channel's messages that are this ticket's card, by the metadata the worker put on it. */
  function cardsOf(ticketId: number) {
    return h.sandbox.workspace
      .channelMessages(FEEDBACK)
      .filter(
        (m) =>
          (m.metadata as { event_type?: string } | undefined)?.event_type === MESSAGE_METADATA.ticketCard &&
          (m.metadata as { event_payload?: { ticket_id?: number } }).event_payload?.ticket_id === ticketId,
      );
  }

  it('a first post looks nothing up and carries the ticket in its metadata', async () => {
    const ticket = await newTicket('plain');
    await h.drain();
    const [card] = cardsOf(ticket.id);
    expect(card?.ts).toBe((await getTicket(h.earshot.context.db, ticket.id))?.slackTs);
    expect(h.sandbox.workspace.callsTo('conversations.history')).toHaveLength(0);
    expect(h.sandbox.workspace.callsTo('conversations.replies')).toHaveLength(0);
  });

  for (const answerLost of ['drop', 500] as const) {
    it(`posts one card when Slack posted it but the answer was lost (${answerLost})`, async () => {
      const ws = h.sandbox.workspace;
      const ticket = await newTicket(`lost-${answerLost}`);
      ws.failNext('chat.postMessage', { answerLost });
      await h.drain();

      expect(cardsOf(ticket.id)).toHaveLength(1);
      const posts = ws.callsTo('chat.postMessage');
      expect(posts).toHaveLength(1);
      expect(posts[0]!.ok).toBe(false);
      const lookup = ws.callsTo('conversations.history');
      expect(lookup).toHaveLength(1);
      expect(lookup[0]!.args.include_all_metadata).toBe('true');
      // The adopted card is the one in Slack, and it is brought up to date in place.
      const saved = await getTicket(h.earshot.context.db, ticket.id);
      expect(saved?.slackTs).toBe(cardsOf(ticket.id)[0]!.ts);
      expect(ws.callsTo('chat.update').map((c) => c.args.ts)).toEqual([saved?.slackTs]);
      const [row] = await h.earshot.context.db.select().from(outbox).where(eq(outbox.ticketId, ticket.id));
      expect(row?.status).toBe('done');
    });
  }

  it('posts one card when the process died between the post and saving its ts', async () => {
    const ws = h.sandbox.workspace;
    const db = h.earshot.context.db;
    const ticket = await newTicket('crash');
    // Slack posts the card, and the answer never comes back: this process is as good as dead.
    ws.failNext('chat.postMessage', { answerLost: 'hang' });
    const dying = h.slack.delivery.runOnce();
    await ws.waitFor(() => cardsOf(ticket.id).length === 1, { what: 'the card in Slack' });
    expect((await getTicket(db, ticket.id))?.slackTs).toBeNull();

    // A new process takes over once the dead one's lease on the row has run out.
    const restarted = createDeliveryWorker({
      db,
      client: new WebClient(BOT_TOKEN, {
        slackApiUrl: h.sandbox.apiUrl(),
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
      }),
      logger: createLogger({ level: 'silent' }),
      options: { clock: clock.now, digest: null, backoff: { baseMs: 20, maxMs: 100 } },
    });
    await restarted.runOnce();
    expect((await getTicket(db, ticket.id))?.slackTs, 'the lease still holds the row').toBeNull();
    clock.advance(3 * 60_000);
    for (let round = 0; round < 5 && (await h.pendingCount()) > 0; round += 1) await restarted.runOnce();

    expect(await h.pendingCount()).toBe(0);
    expect(cardsOf(ticket.id)).toHaveLength(1);
    expect((await getTicket(db, ticket.id))?.slackTs).toBe(cardsOf(ticket.id)[0]!.ts);
    expect(ws.callsTo('chat.postMessage')).toHaveLength(1);

    // The dead process's call finally fails; it changes nothing that was settled.
    ws.releaseHeld();
    await dying;
    const [row] = await db.select().from(outbox).where(eq(outbox.ticketId, ticket.id));
    expect(row?.status).toBe('done');
    expect(cardsOf(ticket.id)).toHaveLength(1);
  });

  it('posts one thread line when the line was posted but the answer was lost', async () => {
    const ws = h.sandbox.workspace;
    const db = h.earshot.context.db;
    const ticket = await newTicket('thread');
    await h.drain();
    const ts = (await getTicket(db, ticket.id))!.slackTs!;
    await claimTicket(db, userActor(SEED.users.agent1), { ticketId: ticket.id });
    ws.failNext('chat.postMessage', { answerLost: 'drop' });
    await h.drain();
    const lines = ws
      .thread(FEEDBACK, ts)
      .filter((m) => m.ts !== ts)
      .map((m) => m.text);
    expect(lines).toEqual([`<@${SEED.users.agent1}> claimed`]);
    const lookup = ws.callsTo('conversations.replies');
    expect(lookup).toHaveLength(1);
    expect(lookup[0]!.args.ts).toBe(ts);
  });

  it('sends one SLA DM when the DM was posted but the answer was lost', async () => {
    const ws = h.sandbox.workspace;
    const db = h.earshot.context.db;
    const ticket = await newTicket('dm');
    await h.drain();
    const assignee = SEED.users.agent2;
    const dm = ws.openDm(assignee).id;
    const text = `:warning: Ticket #${ticket.id}: the first response target is close`;
    // What the SLA sweep queues for an assignee.
    await db.insert(outbox).values({
      kind: 'dm',
      channel: assignee,
      ticketId: ticket.id,
      dedupeKey: `sla:${ticket.id}:first_response:warning:dm`,
      payload: { user: assignee, text },
    });
    ws.clearCalls();
    ws.failNext('chat.postMessage', { answerLost: 'drop' });
    await h.drain();

    expect(ws.channelMessages(dm).map((m) => m.text)).toEqual([text]);
    expect(ws.callsTo('chat.postMessage')).toHaveLength(1);
    const lookup = ws.callsTo('conversations.history');
    expect(lookup.map((call) => call.args.channel)).toEqual([dm]);
    expect(lookup[0]!.args.include_all_metadata).toBe('true');
    const [row] = await db
      .select()
      .from(outbox)
      .where(eq(outbox.dedupeKey, `sla:${ticket.id}:first_response:warning:dm`));
    expect(row?.status).toBe('done');
  });
});
