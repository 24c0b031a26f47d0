import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { authors, items, leases, streamRules, tickets } from '../../src/db/schema/index.js';
import { isAppError } from '../../src/errors.js';
import type { IngestPipeline } from '../../src/ingest/pipeline.js';
import { addStreamRule, listStreamRules, removeStreamRule, syncStreamRules } from '../../src/ingest/x/rules.js';
import { createXIngest, type XIngest } from '../../src/ingest/x/x-ingest.js';
import { createSource, getSource } from '../../src/sources/sources.js';
import type { Source } from '../../src/tickets/types.js';
import { type FakeUser, FakeXServer } from '../fakes/x-server.js';
import { describeEachDatabase } from '../helpers/database.js';
import { userActor } from '../helpers/fixtures.js';
import { FAST_TIMINGS, silentLogger, testPipeline, waitFor, xClients } from './helpers.js';

const lead = userActor('ULEAD', 'lead');
const dana: FakeUser = { id: '1001', username: 'dana', name: 'Dana K', followers: 12_400, verified: true };
const omar: FakeUser = { id: '1002', username: 'omar', name: 'Omar', followers: 80 };

describeEachDatabase('X filtered stream', (handle) => {
  let x: FakeXServer;
  let source: Source;
  let pipeline: IngestPipeline;
  const running: XIngest[] = [];
  let sourceCount = 0;

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
    source = await createSource(db, { kind: 'system', name: 'test' }, { name: `x-${sourceCount}`, kind: 'x' }, null);
    pipeline = testPipeline(db);
    x.rules.clear();
    // Each test reads X's recent search afresh: no post of an earlier test is in it.
    x.posts.length = 0;
    x.rateLimitConnects = 0;
    x.silent = false;
  });
  afterEach(async () => {
    for (const ingest of running.splice(0)) await ingest.stop();
    await pipeline.stop();
  });

  const startIngest = async (holder = 'replica-a', mode: 'stream' | 'poll' = 'stream') => {
    const { db } = handle();
    const ingest = createXIngest({
      db,
      logger: silentLogger,
      client: xClients(x.url).app,
      pipeline,
      sourceId: source.id,
      mode,
      holder,
      accountId: '42',
      timings: FAST_TIMINGS,
    });
    running.push(ingest);
    await ingest.start();
    return ingest;
  };

  const storedIds = async () => {
    const { db } = handle();
    const rows = await db.select().from(items).where(eq(items.sourceId, source.id));
    return rows.map((r) => r.externalId).sort();
  };

  it('adds, lists and removes monitoring rules on X, surfacing X’s refusal', async () => {
    const { db } = handle();
    const client = xClients(x.url).app;
    const { rule } = await addStreamRule(db, client, lead, {
      sourceId: source.id,
      value: '@acme -is:retweet',
      tag: 'brand',
    });
    expect(rule.externalId).toBeTruthy();
    expect([...x.rules.values()]).toEqual([{ id: rule.externalId, value: '@acme -is:retweet', tag: 'brand' }]);

    const refused = await addStreamRule(db, client, lead, { sourceId: source.id, value: 'refund foo:bar' }).catch(
      (e: unknown) => e,
    );
    expect(isAppError(refused, 'invalid_input')).toBe(true);
    expect((refused as Error).message).toContain("invalid operator 'foo'");
    const forbidden = await addStreamRule(db, client, userActor('UAGENT', 'agent'), {
      sourceId: source.id,
      value: 'acme',
    }).catch((e: unknown) => e);
    expect(isAppError(forbidden, 'forbidden')).toBe(true);
    expect((await listStreamRules(db, source.id)).map((r) => r.value)).toEqual(['@acme -is:retweet']);

    await removeStreamRule(db, client, lead, { sourceId: source.id, id: rule.id });
    expect(x.rules.size).toBe(0);
    expect(await listStreamRules(db, source.id)).toEqual([]);
  });

  it('syncs X to the rules kept in Postgres, touching only the rules Earshot created', async () => {
    const { db } = handle();
    const client = xClients(x.url).app;
    // Another deployment sharing the X app has its own rule; ours was removed here while X was down.
    x.rules.set('999', { id: '999', value: 'another deployment' });
    const { rule: gone } = await addStreamRule(db, client, lead, { sourceId: source.id, value: 'old product' });
    const { rule: retag } = await addStreamRule(db, client, lead, { sourceId: source.id, value: 'billing', tag: 'v1' });
    await db.delete(streamRules).where(eq(streamRules.id, gone.id));
    await db.update(streamRules).set({ tag: 'v2' }).where(eq(streamRules.id, retag.id));
    await db.insert(streamRules).values({ sourceId: source.id, value: 'outage', createdBy: 'ULEAD' });

    const result = await syncStreamRules(db, client, source.id);
    expect(result).toEqual({ added: 1, deleted: 1, retagged: 1, refused: [] });
    expect([...x.rules.values()].map((r) => [r.value, r.tag ?? null]).sort()).toEqual([
      ['another deployment', null],
      ['billing', 'v2'],
      ['outage', null],
    ]);
    const rows = await listStreamRules(db, source.id);
    for (const row of rows) expect(x.rules.get(row.externalId!)?.value).toBe(row.value);
    // Nothing left to do: a second sync changes nothing.
    expect(await syncStreamRules(db, client, source.id)).toEqual({ added: 0, deleted: 0, retagged: 0, refused: [] });
  });

  it('stores matching posts from the chunked stream, with author facts, and threads replies into the ticket', async () => {
    const { db } = handle();
    await addStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, value: 'acme outage' });
    const ingest = await startIngest();
    await waitFor(() => ingest.status().connected, 'stream connected');

    const root = x.publish({ text: 'Is there an acme outage? Nothing loads', author: dana });
    x.publish({ text: 'lovely weather today', author: omar });
    await waitFor(async () => (await storedIds()).length === 1, 'root stored');
    const reply = x.publish({ text: 'Still an acme outage here, an hour later', author: dana, replyTo: root.id });
    await waitFor(async () => (await storedIds()).length === 2, 'reply stored');
    await pipeline.idle();

    const rows = await db.select().from(items).where(eq(items.sourceId, source.id));
    const byId = new Map(rows.map((r) => [r.externalId, r]));
    expect(byId.get(reply.id)).toMatchObject({ conversationId: root.id, parentExternalId: root.id, language: 'en' });
    expect(byId.get(root.id)?.url).toBe(`https://x.com/dana/status/${root.id}`);
    expect(byId.get(reply.id)?.ticketId).toBe(byId.get(root.id)?.ticketId);
    const [ticket] = await db
      .select()
      .from(tickets)
      .where(eq(tickets.id, byId.get(root.id)!.ticketId!));
    expect(ticket).toMatchObject({ priority: 'P1', itemCount: 2 });
    const [author] = await db
      .select()
      .from(authors)
      .where(eq(authors.id, byId.get(root.id)!.authorId));
    expect(author).toMatchObject({ handle: 'dana', displayName: 'Dana K', followerCount: 12_400, verified: true });
    expect((await getSource(db, source.id))?.cursor).toBe(reply.id);
    // X's `\r\n` keep-alives arrive between posts and are told apart from data.
    await waitFor(() => ingest.status().keepAlives >= 3, 'keep-alives received');
  });

  it('reconnects after a dropped connection and backfills the gap: no loss, no duplicate', async () => {
    const { db } = handle();
    await addStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, value: 'acme' });
    const ingest = await startIngest();
    await waitFor(() => ingest.status().connected, 'stream connected');
    const first = x.publish({ text: 'acme app is down', author: dana });
    await waitFor(async () => (await storedIds()).length === 1, 'first post stored');

    x.dropStreams();
    const missed = [
      x.publish({ text: 'acme still down', author: omar, stream: false }),
      x.publish({ text: 'acme? hello?', author: dana, stream: false }),
    ];
    await waitFor(() => ingest.status().connects >= 2, 'reconnected');
    const after = x.publish({ text: 'acme works again', author: omar });
    await waitFor(async () => (await storedIds()).length === 4, 'gap backfilled');
    await waitFor(() => ingest.status().backfills >= 2, 'backfill finished');
    // A second backfill over the same range (another restart) adds nothing.
    await ingest.stop();
    const again = await startIngest('replica-a');
    await waitFor(() => again.status().backfills >= 1, 'restart backfill finished');
    await pipeline.idle();

    expect(await storedIds()).toEqual([first.id, ...missed.map((p) => p.id), after.id].sort());
    const rows = await db.select().from(items).where(eq(items.sourceId, source.id));
    expect(rows.every((r) => r.processedAt !== null)).toBe(true);
    expect((await getSource(db, source.id))?.cursor).toBe(after.id);
  });

  it('backfills the gap when a fresh source loses the stream before any post moved the cursor', async () => {
    const { db } = handle();
    await addStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, value: 'acme' });
    const ingest = await startIngest();
    await waitFor(() => ingest.status().backfills >= 1, 'first backfill finished');
    // Nothing streamed yet, so no post has moved the cursor: the first backfill anchored it.
    expect((await getSource(db, source.id))?.cursor).not.toBeNull();

    x.dropStreams();
    const missed = x.publish({ text: 'acme is down', author: omar, stream: false });
    await waitFor(() => ingest.status().connects >= 2, 'reconnected');
    await waitFor(async () => (await storedIds()).includes(missed.id), 'gap backfilled');
    await waitFor(() => ingest.status().backfills >= 2, 'backfill finished');
    await pipeline.idle();
    expect(await storedIds()).toEqual([missed.id]);
    expect((await getSource(db, source.id))?.cursor).toBe(missed.id);
  });

  it('backfills a gap opened while the cursor write for the post before it is still on its way', async () => {
    const { db, kind } = handle();
    if (kind !== 'postgres') return; // holding a row lock needs a second connection
    await addStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, value: 'acme' });
    const ingest = await startIngest();
    await waitFor(() => ingest.status().backfills >= 1, 'first backfill finished');
    // Another transaction holds the source's row, so the cursor write for the first post waits.
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = db.transaction(async (tx) => {
      await tx.execute(sql`select 1 from sources where id = ${source.id} for no key update`);
      locked();
      await released;
    });
    try {
      await lockTaken;
      const first = x.publish({ text: 'acme app is down', author: dana });
      await waitFor(async () => (await storedIds()).length === 1, 'first post stored');
      x.dropStreams();
      const missed = x.publish({ text: 'acme still down', author: omar, stream: false });
      await waitFor(() => ingest.status().connects >= 2, 'reconnected');
      // Without waiting for the write, the backfill reads no cursor, sweeps nothing and finishes while
      // the lock is held; with it, it waits for the write (and the release) before reading.
      await waitFor(() => ingest.status().backfills >= 2, 'backfill finished', 2_000).catch(() => {});
      release();
      await holder;
      await waitFor(async () => (await storedIds()).length === 2, 'gap backfilled');
      await waitFor(() => ingest.status().backfills >= 2, 'backfill finished');
      expect(await storedIds()).toEqual([first.id, missed.id].sort());
      expect((await getSource(db, source.id))?.cursor).toBe(missed.id);
    } finally {
      release();
      await holder;
    }
  });

  it('reconnects when X goes silent (heartbeat watchdog)', async () => {
    const { db } = handle();
    await addStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, value: 'acme' });
    const ingest = await startIngest();
    await waitFor(() => ingest.status().connected, 'stream connected');
    const before = ingest.status().connects;
    x.silent = true;
    await waitFor(() => ingest.status().connects > before, 'reconnected after silence');
    x.silent = false;
  });

  it('backs off and retries when X answers 429 on connect', async () => {
    const { db } = handle();
    await addStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, value: 'acme' });
    x.rateLimitConnects = 2;
    const attemptsBefore = x.connectAttempts;
    const ingest = await startIngest();
    await waitFor(() => ingest.status().connected, 'connected after 429s');
    expect(x.connectAttempts - attemptsBefore).toBe(3);
    const post = x.publish({ text: 'acme help', author: dana });
    await waitFor(async () => (await storedIds()).includes(post.id), 'post stored after 429s');
  });

  it('lets one replica run the stream; another takes over when the lease expires or is released', async () => {
    const { db } = handle();
    await addStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, value: 'acme' });
    const leaseName = `x-ingest:${source.id}`;
    // A replica that died a moment ago still holds the lease: nobody streams until it expires.
    await db
      .insert(leases)
      .values({ name: leaseName, holder: 'replica-dead', expiresAt: sql`now() + interval '300 milliseconds'` });
    const a = await startIngest('replica-a');
    expect(a.status().leader).toBe(false);
    await waitFor(() => a.status().connected, 'a took over the expired lease');
    const b = await startIngest('replica-b');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(b.status().leader).toBe(false);
    expect(x.openStreams).toBe(1);

    // Someone else holds the lease now (a stalled renewal let it lapse): a steps down at its next renewal.
    await db
      .update(leases)
      .set({ holder: 'replica-c', expiresAt: sql`now() + interval '1 minute'` })
      .where(eq(leases.name, leaseName));
    await waitFor(() => !a.status().leader && x.openStreams === 0, 'a stepped down and closed its stream');
    expect(b.status().leader).toBe(false);
    await db.delete(leases).where(eq(leases.name, leaseName));
    await waitFor(() => (a.status().connected || b.status().connected) && x.openStreams === 1, 'one replica took over');
    const leader = a.status().leader ? a : b;
    const standby = leader === a ? b : a;
    const post = x.publish({ text: 'acme after takeover', author: omar });
    await waitFor(async () => (await storedIds()).includes(post.id), 'the new leader stores posts');

    // A graceful stop releases the lease at once; the standby takes over.
    await leader.stop();
    await waitFor(() => standby.status().connected && x.openStreams === 1, 'standby took over');
  });

  it('polls mentions and recent search from the same cursor, without duplicates', async () => {
    const { db } = handle();
    x.addUser({ id: '42', username: 'acme', name: 'Acme Support' });
    await addStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, value: '"acme app"' });
    const ingest = await startIngest('poller', 'poll');
    await waitFor(() => ingest.status().polls >= 1, 'first poll');
    const mention = x.publish({ text: '@acme my invoice is wrong', author: dana });
    const search = x.publish({ text: 'the acme app keeps crashing', author: omar });
    const unrelated = x.publish({ text: 'unrelated', author: omar });
    const own = x.publish({
      text: 'our own post mentioning @acme',
      author: { id: '42', username: 'acme', name: 'Acme Support' },
    });
    expect(await ingest.pollOnce()).toBe(2);
    const afterFirst = await storedIds();
    expect(afterFirst).toEqual(expect.arrayContaining([mention.id, search.id]));
    expect(afterFirst).not.toContain(unrelated.id);
    expect(afterFirst).not.toContain(own.id);
    expect(await ingest.pollOnce()).toBe(0);
    expect(await storedIds()).toEqual(afterFirst);
    expect((await getSource(db, source.id))?.cursor).toBe(search.id);
    const mentionCall = x.requests.findLast((r) => r.path === '/2/users/42/mentions');
    expect(mentionCall?.query.since_id).toBe(search.id);
  });
});
