import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SEED, type SlackCall } from '../../src/sandbox/index.js';
import { DEFAULT_DELIVERY_OPTIONS } from '../../src/slack/delivery/worker.js';
import { MESSAGE_METADATA } from '../../src/slack/ids.js';
import { claimTicket } from '../../src/tickets/actions.js';
import { getTicket } from '../../src/tickets/queries.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';
import { type SlackHarness, shiftableClock, startSlackHarness } from './harness.js';

const CHANNELS = { 'earshot-feedback': SEED.channels.feedback, 'earshot-oncall': SEED.channels.oncall } as const;
type ChannelName = keyof typeof CHANNELS;

/** The worker's production pacing and backoff: a little under a message a second per channel, 2 s doubling to 5 min. */
const PRODUCTION_DELIVERY = {
  pacing: DEFAULT_DELIVERY_OPTIONS.pacing,
  backoff: DEFAULT_DELIVERY_OPTIONS.backoff,
  pollIntervalMs: DEFAULT_DELIVERY_OPTIONS.pollIntervalMs,
};

describe('a long Slack outage and Slack’s rate limit, on a simulated clock', () => {
  let h: SlackHarness;
  let sourceId: number;
  const clock = shiftableClock();

  beforeAll(async () => {
    h = await startSlackHarness({
      clock: clock.now,
      env: { EARSHOT_BURST_THRESHOLD: '0' },
      module: { delivery: PRODUCTION_DELIVERY },
    });
    sourceId = (await seedSource(h.earshot.context.db)).id;
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => {
    h.sandbox.workspace.reset();
  });

  /** Queues a card per (channel, name), in that order; returns the ticket ids per channel, in order. */
  async function queueCards(harness: SlackHarness, plan: [ChannelName, string][]) {
    const byChannel: Record<ChannelName, number[]> = { 'earshot-feedback': [], 'earshot-oncall': [] };
    for (const [channel, name] of plan) {
      const { ticket } = await ingestFixture(
        harness.earshot.context.db,
        inboundFixture(sourceId, { author: { externalId: name, handle: name }, text: `${name}: where is my order` }),
        assessmentFixture({ channel, priority: 'P2' }),
      );
      byChannel[channel].push(ticket.id);
    }
    return byChannel;
  }

  /** Card messages of a channel in the order Slack shows them, as ticket ids. */
  function cardOrder(harness: SlackHarness, channel: ChannelName): number[] {
    return harness.sandbox.workspace
      .channelMessages(CHANNELS[channel])
      .filter((m) => (m.metadata as { event_type?: string } | undefined)?.event_type === MESSAGE_METADATA.ticketCard)
      .map((m) => Number((m.metadata as { event_payload: { ticket_id: number } }).event_payload.ticket_id));
  }

  /** Delivery rounds, the clock moved `stepMs` after each, until nothing is pending or `maxRounds` ran. */
  async function run(harness: SlackHarness, stepMs: number, until: () => boolean, maxRounds: number) {
    for (let round = 0; round < maxRounds && !until(); round += 1) {
      await harness.slack.delivery.runOnce();
      clock.advance(stepMs);
    }
  }

  it('after an hour of dropped connections and 503s, every card arrives once, in order per channel', {
    timeout: 120_000,
  }, async () => {
    const ws = h.sandbox.workspace;
    const db = h.earshot.context.db;
    ws.setDown('unreachable');
    const queued = await queueCards(h, [
      ['earshot-feedback', 'f1'],
      ['earshot-oncall', 'o1'],
      ['earshot-feedback', 'f2'],
      ['earshot-feedback', 'f3'],
      ['earshot-oncall', 'o2'],
      ['earshot-feedback', 'f4'],
      ['earshot-oncall', 'o3'],
      ['earshot-feedback', 'f5'],
    ]);
    await claimTicket(db, userActor(SEED.users.agent1), { ticketId: queued['earshot-feedback'][0]! });
    const started = clock.now();

    // Half an hour unreachable, half an hour answering 503: each step is 30 simulated seconds.
    await run(h, 30_000, () => clock.now() - started >= 30 * 60_000, 200);
    ws.setDown(true);
    await run(h, 30_000, () => clock.now() - started >= 60 * 60_000, 200);
    const pending = await h.pendingCount();
    const outage = [...ws.calls];
    expect(ws.channelMessages(CHANNELS['earshot-feedback'])).toHaveLength(0);
    expect(pending).toBe(9);
    expect(outage.length).toBeGreaterThan(4);
    expect(outage.every((c) => !c.ok)).toBe(true);
    expect(outage.some((c) => c.error === 'unreachable') && outage.some((c) => c.status === 503)).toBe(true);
    // It kept trying through the hour (backoff capped at 5 minutes), not once and never again.
    const times = outage.map((c) => c.time.getTime());
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(50 * 60_000);
    expect(outage.filter((c) => c.time.getTime() - started > 40 * 60_000).length).toBeGreaterThan(0);

    ws.setDown(false);
    let done = false;
    for (let round = 0; round < 400 && !done; round += 1) {
      await h.slack.delivery.runOnce();
      clock.advance(1000);
      done = (await h.pendingCount()) === 0;
    }
    expect(done).toBe(true);
    expect(cardOrder(h, 'earshot-feedback')).toEqual(queued['earshot-feedback']);
    expect(cardOrder(h, 'earshot-oncall')).toEqual(queued['earshot-oncall']);
    const first = await getTicket(db, queued['earshot-feedback'][0]!);
    expect(ws.thread(CHANNELS['earshot-feedback'], first!.slackTs!).map((m) => m.text)).toEqual([
      expect.stringContaining('f1: where is my order'),
      `<@${SEED.users.agent1}> claimed`,
    ]);
    // Only the rows that had been tried looked for an earlier post: one per channel, not one per card.
    const lookups = ws.calls.slice(outage.length).filter((c) => c.method === 'conversations.history');
    expect(lookups.map((c) => c.args.channel).sort()).toEqual(['earshot-feedback', 'earshot-oncall']);
  });

  it('keeps Slack’s per-channel pace: after a 429 nothing goes to that channel until Retry-After has passed', async () => {
    const ws = h.sandbox.workspace;
    // Slack stricter than Earshot's own pacer (1/s, burst 3): it answers 429 with Retry-After.
    ws.enableRateLimit({ perSecond: 0.5, burst: 2 });
    const queued = await queueCards(
      h,
      Array.from({ length: 9 }, (_, i): [ChannelName, string] => [
        i % 3 === 2 ? 'earshot-oncall' : 'earshot-feedback',
        `r${i}`,
      ]),
    );
    let done = false;
    for (let round = 0; round < 600 && !done; round += 1) {
      await h.slack.delivery.runOnce();
      clock.advance(100);
      done = (await h.pendingCount()) === 0;
    }
    expect(done).toBe(true);

    const posts = ws.callsTo('chat.postMessage');
    const limited = posts.filter((c) => c.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    const channelOf = (call: SlackCall) => ws.findChannel(String(call.args.channel))?.id ?? String(call.args.channel);
    for (const refusal of limited) {
      expect(refusal.retryAfter).toBeGreaterThan(0);
      const from = refusal.time.getTime();
      const until = from + refusal.retryAfter! * 1000;
      const inside = posts.filter(
        (c) =>
          c !== refusal && channelOf(c) === channelOf(refusal) && c.time.getTime() > from && c.time.getTime() < until,
      );
      expect(inside, `posts to ${channelOf(refusal)} inside its Retry-After window`).toEqual([]);
    }
    // Earshot's own pacer: per channel, never more than its burst of 3 within any second.
    for (const channel of Object.values(CHANNELS)) {
      const sent = posts.filter((c) => channelOf(c) === channel).map((c) => c.time.getTime());
      for (const [i, at] of sent.entries())
        expect(sent.slice(i, i + 4).at(-1)! - at >= 1000 || i + 4 > sent.length).toBe(true);
    }
    expect(cardOrder(h, 'earshot-feedback')).toEqual(queued['earshot-feedback']);
    expect(cardOrder(h, 'earshot-oncall')).toEqual(queued['earshot-oncall']);
  });
});
