import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { items, outbox, streamRules, ticketEvents, tickets } from '../../src/db/schema/index.js';
import type { IngestPipeline } from '../../src/ingest/pipeline.js';
import { idAt } from '../../src/ingest/x/refusals.js';
import { createXIngest, type XIngest, type XIngestOptions } from '../../src/ingest/x/x-ingest.js';
import { advanceCursor, createSource, getSource } from '../../src/sources/sources.js';
import type { Source } from '../../src/tickets/types.js';
import { type FakeUser, FakeXServer } from '../fakes/x-server.js';
import { describeEachDatabase } from '../helpers/database.js';
import {
  capturedLogger,
  FAST_TIMINGS,
  installItemRefusal,
  silentLogger,
  testPipeline,
  waitFor,
  xClients,
} from './helpers.js';

const dana: FakeUser = { id: '3001', username: 'dana', name: 'Dana K', followers: 100 };
const omar: FakeUser = { id: '3002', username: 'omar', name: 'Omar', followers: 80 };
const DAY = 86_400_000;

/**
 * The cursor (`sources.cursor`) may only pass posts that are stored: these tests break storage,
 * the connection and X's limits on purpose and check that every post arrives exactly once.
 */
describeEachDatabase('X ingestion cursor: nothing lost, nothing twice', (handle) => {
  let x: FakeXServer;
  let source: Source;
  let pipeline: IngestPipeline;
  const running: XIngest[] = [];
  let sourceCount = 0;
  /** Each test's own keyword: posts of earlier tests stay on the fake X, within search's window. */
  let kw = '';

  beforeAll(async () => {
    x = new FakeXServer({ heartbeatMs: 40 });
    await x.start();
  });
  afterAll(async () => {
    await x.close();
  });
  beforeEach(async () => {
    const { db } = handle();
    sourceCount += 1;
    source = await createSource(db, { kind: 'system', name: 'test' }, { name: `xc-${sourceCount}`, kind: 'x' }, null);
    kw = `acme${sourceCount}`;
    pipeline = testPipeline(db);
    x.rules.clear();
    x.searchFailures = [];
  });
  afterEach(async () => {
    for (const ingest of running.splice(0)) await ingest.stop();
    await pipeline.stop();
  });

  const start = async (options: Partial<XIngestOptions> = {}) => {
    const { db } = handle();
    const ingest = createXIngest({
      db,
      logger: silentLogger,
      client: xClients(x.url).app,
      pipeline,
      sourceId: source.id,
      mode: 'stream',
      holder: 'replica-a',
      accountId: '42',
      timings: FAST_TIMINGS,
      ...options,
    });
    running.push(ingest);
    await ingest.start();
    return ingest;
  };
  const stop = async (ingest: XIngest) => {
    running.splice(running.indexOf(ingest), 1);
    await ingest.stop();
  };

  /** A monitoring rule as Earshot keeps it, and on X's stream. */
  const rule = async (value: string) => {
    const { db } = handle();
    await db.insert(streamRules).values({ sourceId: source.id, value, createdBy: 'ULEAD' });
  };
  const stored = async () => {
    const { db } = handle();
    return (await db.select().from(items).where(eq(items.sourceId, source.id))).map((r) => r.externalId);
  };
  const cursor = async () => (await getSource(handle().db, source.id))?.cursor ?? null;

  it('holds the cursor below a streamed post the database refused, and stores it once after recovery', async () => {
    const { db } = handle();
    const refusal = await installItemRefusal(db);
    await rule(kw);
    const ingest = await start();
    await waitFor(() => ingest.status().connected && ingest.status().backfills >= 1, 'caught up');
    const first = x.publish({ text: `${kw} one`, author: dana });
    await waitFor(async () => (await cursor()) === first.id, 'cursor at the first post');

    await refusal.refuse('BOOM');
    const refused = x.publish({ text: `${kw} BOOM two`, author: omar });
    const after = x.publish({ text: `${kw} three`, author: dana });
    await waitFor(async () => (await stored()).includes(after.id), 'the later post stored');
    await waitFor(() => ingest.status().held === 1, 'the refused post is held');
    // Retries keep failing while the database refuses; the cursor never passes the refused post.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await stored()).not.toContain(refused.id);
    expect(await cursor()).toBe(first.id);

    await refusal.allow('BOOM');
    await waitFor(async () => (await stored()).includes(refused.id), 'the refused post stored after recovery');
    await waitFor(async () => (await cursor()) === after.id, 'cursor moved past it');
    expect(ingest.status().held).toBe(0);

    // The process dies while a post is refused: the next one backfills it from the held cursor.
    await refusal.refuse('CRASH');
    const lost = x.publish({ text: `${kw} CRASH four`, author: omar });
    await waitFor(() => ingest.status().held === 1, 'held again');
    await stop(ingest);
    expect(await cursor()).toBe(after.id);
    await refusal.allow('CRASH');
    const restarted = await start();
    await waitFor(async () => (await stored()).includes(lost.id), 'backfilled after the restart');
    await waitFor(() => restarted.status().backfills >= 1, 'restart backfill done');
    await pipeline.idle();

    const ids = await stored();
    expect(ids.sort()).toEqual([first.id, refused.id, after.id, lost.id].sort());
    expect(await cursor()).toBe(lost.id);
    const rows = await db.select().from(items).where(eq(items.sourceId, source.id));
    expect(rows.every((r) => r.processedAt !== null)).toBe(true);
  });

  it('backfills a gap larger than one round of pages completely, then moves the cursor', async () => {
    await rule(kw);
    const { lines, logger } = capturedLogger('warn');
    const first = await start({ maxPages: 1, pageSize: 10, logger });
    await waitFor(() => first.status().connected && first.status().backfills >= 1, 'caught up');
    const seed = x.publish({ text: `${kw} seed`, author: dana });
    await waitFor(async () => (await cursor()) === seed.id, 'seed stored');
    await stop(first);
    // 25 posts while nothing listens: two and a half rounds of one 10-post page.
    const missed = Array.from({ length: 25 }, (_, i) =>
      x.publish({ text: `${kw} missed ${i}`, author: i % 2 ? dana : omar, stream: false }),
    );
    await start({ maxPages: 1, pageSize: 10, logger });
    await waitFor(async () => (await cursor()) === missed.at(-1)!.id, 'backfill covered the gap');
    await pipeline.idle();
    const ids = await stored();
    expect(ids.sort()).toEqual([seed.id, ...missed.map((p) => p.id)].sort());
    expect(new Set(ids).size).toBe(ids.length);
    expect(await cursor()).toBe(missed.at(-1)!.id);
    expect(lines.some((l) => String(l.msg).startsWith('gap larger than one round reads'))).toBe(true);
  });

  it('polls a gap larger than one poll reads over several polls, the cursor waiting until it is covered', async () => {
    const { db } = handle();
    await rule(kw);
    const seed = x.publish({ text: `${kw} seed`, author: dana, stream: false });
    await advanceCursor(db, source.id, seed.id);
    const missed = Array.from({ length: 25 }, (_, i) =>
      x.publish({ text: `${kw} poll ${i}`, author: omar, stream: false }),
    );
    const ingest = createXIngest({
      db,
      logger: silentLogger,
      client: xClients(x.url).app,
      pipeline,
      sourceId: source.id,
      mode: 'poll',
      holder: 'poller',
      timings: FAST_TIMINGS,
      maxPages: 1,
      pageSize: 10,
    });
    expect(await ingest.pollOnce()).toBe(10);
    expect(await cursor()).toBe(seed.id);
    expect(await ingest.pollOnce()).toBe(10);
    expect(await cursor()).toBe(seed.id);
    // A post written meanwhile is read by the next sweep, not lost between the two.
    const late = x.publish({ text: `${kw} late`, author: dana, stream: false });
    expect(await ingest.pollOnce()).toBe(5);
    expect(await cursor()).toBe(missed.at(-1)!.id);
    expect(await ingest.pollOnce()).toBe(1);
    expect(await cursor()).toBe(late.id);
    const ids = await stored();
    expect(ids.sort()).toEqual([...missed.map((p) => p.id), late.id].sort());
  });

  it('falls back to X’s 7-day window when the cursor is older, alerts the leads, and moves on', async () => {
    const { db } = handle();
    await rule(kw);
    const ancient = x.publish({
      text: `${kw} ancient`,
      author: dana,
      stream: false,
      at: new Date(Date.now() - 9 * DAY),
    });
    await advanceCursor(db, source.id, ancient.id);
    const unreachable = x.publish({
      text: `${kw} eight days ago`,
      author: omar,
      stream: false,
      at: new Date(Date.now() - 8 * DAY),
    });
    const recent = [
      x.publish({ text: `${kw} six days ago`, author: omar, stream: false, at: new Date(Date.now() - 6 * DAY) }),
      x.publish({ text: `${kw} today`, author: dana, stream: false }),
    ];
    const ingest = await start({ alertChannel: 'earshot-leads' });
    await waitFor(() => ingest.status().backfills >= 1, 'backfill finished despite the old cursor');
    await pipeline.idle();
    expect((await stored()).sort()).toEqual(recent.map((p) => p.id).sort());
    expect(await stored()).not.toContain(unreachable.id);
    expect(await cursor()).toBe(recent[1]!.id);
    expect(ingest.status().windowFallbacks).toBeGreaterThanOrEqual(1);
    const refused = x.requests.find((r) => r.path === '/2/tweets/search/recent' && r.query.since_id === ancient.id);
    expect(refused).toBeDefined();
    const fallback = x.requests.find((r) => r.path === '/2/tweets/search/recent' && r.query.start_time);
    expect(Date.parse(fallback!.query.start_time!)).toBeGreaterThan(Date.now() - 7 * DAY);
    const alerts = await db.select().from(outbox).where(eq(outbox.channel, 'earshot-leads'));
    expect(alerts.map((a) => String(a.payload.text))).toEqual([expect.stringContaining('7-day search window')]);
  });

  it('polling past an old cursor with nothing new moves the cursor into X’s window instead of refusing forever', async () => {
    const { db } = handle();
    await rule(kw);
    const ancient = x.publish({
      text: `${kw} ancient`,
      author: dana,
      stream: false,
      at: new Date(Date.now() - 10 * DAY),
    });
    await advanceCursor(db, source.id, ancient.id);
    const ingest = createXIngest({
      db,
      logger: silentLogger,
      client: xClients(x.url).app,
      pipeline,
      sourceId: source.id,
      mode: 'poll',
      holder: 'poller',
      timings: FAST_TIMINGS,
    });
    expect(await ingest.pollOnce()).toBe(0);
    const moved = (await cursor())!;
    expect(BigInt(moved)).toBeGreaterThanOrEqual(BigInt(idAt(new Date(Date.now() - 7 * DAY))));
    const before = x.requests.length;
    const post = x.publish({ text: `${kw} now`, author: omar, stream: false });
    expect(await ingest.pollOnce()).toBe(1);
    // The next poll asks by id again: X accepted the moved cursor.
    expect(x.requests.slice(before).every((r) => !r.query.start_time)).toBe(true);
    expect(await cursor()).toBe(post.id);
  });

  it('skips a rule X refuses to search and alerts, while the other rules go on', async () => {
    const { db } = handle();
    await rule(kw);
    await rule(`${kw} nosuch:operator`);
    const seed = x.publish({ text: `${kw} seed`, author: dana, stream: false });
    await advanceCursor(db, source.id, seed.id);
    const post = x.publish({ text: `${kw} refund please`, author: omar, stream: false });
    const ingest = createXIngest({
      db,
      logger: silentLogger,
      client: xClients(x.url).app,
      pipeline,
      sourceId: source.id,
      mode: 'poll',
      holder: 'poller',
      timings: FAST_TIMINGS,
      alertChannel: 'earshot-leads',
    });
    expect(await ingest.pollOnce()).toBe(1);
    expect(await cursor()).toBe(post.id);
    expect(ingest.status().skippedRules).toBe(1);
    const alerts = await db
      .select()
      .from(outbox)
      .where(and(eq(outbox.channel, 'earshot-leads'), sql`${outbox.payload}->>'text' like '%nosuch:operator%'`));
    expect(alerts).toHaveLength(1);
    expect(String(alerts[0]!.payload.text)).toContain("invalid operator 'nosuch'");
    // The next poll skips it again without a second alert.
    await ingest.pollOnce();
    expect(await db.select().from(outbox).where(sql`${outbox.payload}->>'text' like '%nosuch:operator%'`)).toHaveLength(
      1,
    );
  });

  it('stores posts written while no process ran exactly once after the next start', async () => {
    await rule(kw);
    const first = await start();
    await waitFor(() => first.status().connected && first.status().backfills >= 1, 'caught up');
    const before = x.publish({ text: `${kw} before`, author: dana });
    await waitFor(async () => (await cursor()) === before.id, 'first post stored');
    await stop(first);
    const downtime = [
      x.publish({ text: `${kw} during downtime 1`, author: omar }),
      x.publish({ text: `${kw} during downtime 2`, author: dana }),
      x.publish({ text: `${kw} during downtime 3`, author: omar }),
    ];
    const second = await start();
    await waitFor(async () => (await cursor()) === downtime[2]!.id, 'backfill after start');
    await stop(second);
    const third = await start();
    await waitFor(() => third.status().backfills >= 1, 'second restart backfill');
    await pipeline.idle();
    const ids = await stored();
    expect(ids.sort()).toEqual([before.id, ...downtime.map((p) => p.id)].sort());
    expect(await cursor()).toBe(downtime[2]!.id);
  });

  it('makes one ticket and one card when the stream and the backfill deliver the same post at once', async () => {
    const { db } = handle();
    await rule(kw);
    const ingest = await start();
    await waitFor(() => ingest.status().connected && ingest.status().backfills >= 1, 'caught up');
    const seed = x.publish({ text: `${kw} seed`, author: omar });
    await waitFor(async () => (await cursor()) === seed.id, 'seed stored');

    // The backfill after the reconnect waits at X until the post exists; then X answers the
    // search and sends the post down the new stream in the same tick.
    const release = x.holdSearches();
    x.dropStreams();
    await waitFor(() => ingest.status().connects >= 2 && x.waitingSearches >= 1, 'backfill waiting at X');
    const post = x.publish({ text: `${kw} twice over`, author: dana, stream: false });
    release();
    x.deliverToStreams(post);
    await waitFor(() => ingest.status().backfills >= 2, 'backfill done');
    await waitFor(async () => (await stored()).includes(post.id), 'post stored');
    await pipeline.idle();

    const rows = await db.select().from(items).where(eq(items.externalId, post.id));
    expect(rows).toHaveLength(1);
    const opened = await db.select().from(tickets).where(eq(tickets.id, rows[0]!.ticketId!));
    expect(opened).toHaveLength(1);
    const created = await db
      .select()
      .from(ticketEvents)
      .where(and(eq(ticketEvents.ticketId, opened[0]!.id), eq(ticketEvents.type, 'created')));
    expect(created).toHaveLength(1);
    const sourceTickets = (await db.select().from(tickets).where(eq(tickets.sourceId, source.id))).map((t) => t.id);
    const cards = await db
      .select()
      .from(outbox)
      .where(and(eq(outbox.kind, 'card'), inArray(outbox.ticketId, sourceTickets)));
    expect(cards.filter((c) => c.ticketId === opened[0]!.id)).toHaveLength(1);
    expect(sourceTickets).toHaveLength(2);
  });
});
