import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/database.js';
import { SEED } from '../../src/sandbox/index.js';
import { ACTIONS, MESSAGE_METADATA } from '../../src/slack/ids.js';
import type { Priority } from '../../src/tickets/types.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource } from '../helpers/fixtures.js';
import { type SlackHarness, shiftableClock, startSlackHarness } from './harness.js';

const FEEDBACK = SEED.channels.feedback;
const SPACING_MS = 30_000;

const KINDS = process.env.TEST_DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

describe.each(KINDS)('burst digests on a simulated clock: ahead of the queue, one per spacing [%s]', (kind) => {
  let h: SlackHarness;
  let sourceId: number;
  let sent = 0;
  const clock = shiftableClock();

  beforeAll(async () => {
    h = await startSlackHarness({
      clock: clock.now,
      database: kind,
      module: {
        delivery: {
          // One message per send slot, so the order the channel's rows go out in is visible.
          pacing: { ratePerSecond: 1, burst: 1 },
          digest: { threshold: 5, windowMinutes: 5, spacingMs: SPACING_MS },
        },
      },
    });
    sourceId = (await seedSource(h.earshot.context.db)).id;
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    // Each test starts once the previous one's digest is past its spacing (and well within the burst
    // window: the window is measured from the rows' created_at, which the database stamps).
    clock.advance(SPACING_MS + 1000);
    h.sandbox.workspace.reset();
  });

  async function queue(priority: Priority, n: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < n; i += 1) {
      sent += 1;
      const { ticket } = await ingestFixture(
        h.earshot.context.db,
        inboundFixture(sourceId, { author: { externalId: `digest-${sent}` }, text: `checkout broke again ${sent}` }),
        assessmentFixture({ channel: 'earshot-feedback', priority }),
      );
      ids.push(ticket.id);
    }
    return ids;
  }

  /** The channel's messages in order: a digest as `digest:<n items>`, a card as its ticket id. */
  function posted(): (number | string)[] {
    return h.sandbox.workspace.channelMessages(FEEDBACK).map((m) => {
      if (JSON.stringify(m.blocks ?? []).includes(ACTIONS.openDigest)) return `digest:${m.text.split(' ')[0]}`;
      const meta = m.metadata as { event_type?: string; event_payload?: { ticket_id?: number } } | undefined;
      return meta?.event_type === MESSAGE_METADATA.ticketCard ? Number(meta.event_payload?.ticket_id) : m.text;
    });
  }

  /** One delivery round per simulated second. */
  async function rounds(n: number) {
    for (let i = 0; i < n; i += 1) {
      await h.slack.delivery.runOnce();
      clock.advance(1000);
    }
  }

  async function digestsOf(ticketIds: number[]): Promise<number[]> {
    const rows = rowsOf<{ digest: number }>(
      await h.earshot.context.db.execute(sql`
        select distinct (payload->'foldedInto'->>'digestId')::int as digest from outbox
        where kind = 'card' and ticket_id in (${sql.join(
          ticketIds.map((id) => sql`${id}`),
          sql`, `,
        )})`),
    );
    return rows.map((r) => r.digest);
  }

  it('posts a burst’s digest ahead of the P2 cards queued before it, then the cards in order', async () => {
    const urgent = await queue('P2', 3);
    const burst = await queue('P4', 6);
    await rounds(1);
    expect(posted()).toEqual(['digest:6']);
    await rounds(4);
    expect(posted()).toEqual(['digest:6', ...urgent]);
    // The folded tickets have no card of their own, and every one is in the one digest.
    expect(await digestsOf(burst)).toHaveLength(1);
    expect(await h.pendingCount()).toBe(0);
  });

  it('folds a continuing burst into the digest waiting for its turn, and posts it once the spacing has passed', async () => {
    const first = await queue('P3', 5);
    await rounds(1);
    expect(posted()).toEqual(['digest:5']);

    // The burst goes on: its next digest waits for the spacing, and later cards join it even below the threshold.
    const wave = await queue('P4', 5);
    await rounds(1);
    const late = await queue('P3', 2);
    const urgent = await queue('P1', 1);
    await rounds(3);
    expect(posted()).toEqual(['digest:5', ...urgent]);
    const [waiting] = await digestsOf([...wave, ...late]);
    expect(await digestsOf([...wave, ...late])).toEqual([waiting]);
    expect(await digestsOf(first)).not.toContain(waiting);

    clock.advance(SPACING_MS);
    await rounds(1);
    expect(posted()).toEqual(['digest:5', ...urgent, 'digest:7']);
    expect(await h.pendingCount()).toBe(0);
  });

  it('keeps a digest Slack answered 429 open: cards folded before its retry join it, and it goes out once', async () => {
    h.sandbox.workspace.failNext('chat.postMessage', { status: 429, retryAfter: 2 });
    const burst = await queue('P4', 5);
    await rounds(1);
    expect(posted()).toEqual([]);
    const more = await queue('P3', 3);
    await rounds(4);
    expect(posted()).toEqual(['digest:8']);
    expect(await digestsOf([...burst, ...more])).toHaveLength(1);
    expect(await h.pendingCount()).toBe(0);
  });
});
