import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { items, replies, sources, tickets } from '../../src/db/schema/index.js';
import type { IngestPipeline } from '../../src/ingest/pipeline.js';
import { addStreamRule } from '../../src/ingest/x/rules.js';
import { fixedXUserAuth } from '../../src/ingest/x/user-auth.js';
import { createXIngest, type XIngest, type XIngestOptions } from '../../src/ingest/x/x-ingest.js';
import { createReplyWorker } from '../../src/replies/deliver.js';
import { createSource } from '../../src/sources/sources.js';
import { recordReply } from '../../src/tickets/actions.js';
import type { Source } from '../../src/tickets/types.js';
import { type FakeUser, FakeXServer } from '../fakes/x-server.js';
import { describeEachDatabase } from '../helpers/database.js';
import { userActor } from '../helpers/fixtures.js';
import { FAST_TIMINGS, silentLogger, testPipeline, waitFor, xClients } from './helpers.js';

const lead = userActor('ULEAD', 'lead');
const dana: FakeUser = { id: '4001', username: 'dana', name: 'Dana', followers: 10 };

describeEachDatabase('X posts: our own replies and rule tags', (handle) => {
  let x: FakeXServer;
  let source: Source;
  let pipeline: IngestPipeline;
  const running: XIngest[] = [];
  let count = 0;
  let kw = '';

  beforeAll(async () => {
    x = new FakeXServer({ heartbeatMs: 40 });
    await x.start();
  });
  afterAll(async () => {
    await x.close();
  });
  beforeEach(async () => {
    count += 1;
    kw = `gizmo${count}`;
    source = await createSource(
      handle().db,
      { kind: 'system', name: 'test' },
      { name: `own-${count}`, kind: 'x' },
      null,
    );
    pipeline = testPipeline(handle().db);
    x.rules.clear();
  });
  afterEach(async () => {
    for (const ingest of running.splice(0)) await ingest.stop();
    await pipeline.stop();
  });

  const start = async (options: Partial<XIngestOptions>) => {
    const ingest = createXIngest({
      db: handle().db,
      logger: silentLogger,
      client: xClients(x.url).app,
      pipeline,
      sourceId: source.id,
      mode: 'stream',
      holder: 'replica-a',
      timings: FAST_TIMINGS,
      ...options,
    });
    running.push(ingest);
    await ingest.start();
    await waitFor(() => ingest.status().connected && ingest.status().backfills >= 1, 'caught up');
    return ingest;
  };
  const storedIds = async () =>
    (await handle().db.select().from(items).where(eq(items.sourceId, source.id))).map((r) => r.externalId);

  it('learns our account from users/me and never ingests our own replies, streamed or searched', async () => {
    const { db } = handle();
    const user = fixedXUserAuth(xClients(x.url).user);
    await addStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, value: kw });
    // No X_ACCOUNT_ID: the account comes from the user-context credentials.
    await start({ accountId: null, resolveAccountId: () => user.accountId() });
    const customer = x.publish({ text: `${kw} is broken for me`, author: dana });
    await waitFor(async () => (await storedIds()).includes(customer.id), 'customer post stored');
    await pipeline.idle();
    expect(x.requests.some((r) => r.path === '/2/users/me' && r.authorization.startsWith('OAuth '))).toBe(true);

    const [item] = await db.select().from(items).where(eq(items.externalId, customer.id));
    const { reply } = await recordReply(db, userActor('UAGENT'), {
      ticketId: item!.ticketId!,
      text: `Sorry! The ${kw} team is on it.`,
      parts: [`Sorry! The ${kw} team is on it.`],
      idempotencyKey: `own-${count}`,
    });
    const worker = createReplyWorker({ sealer: null, db, logger: silentLogger, xUser: user });
    await worker.runOnce();
    const ours = x.createdPosts.at(-1)!;
    expect(ours.text).toContain(kw);
    // Our reply matched the rule and went down the stream; a later post shows it was passed over.
    const later = x.publish({ text: `${kw} again`, author: dana });
    await waitFor(async () => (await storedIds()).includes(later.id), 'later post stored');
    expect(await storedIds()).not.toContain(ours.id);

    // Without any account id (users/me unreachable), the ids our replies got still keep them out.
    for (const ingest of running.splice(0)) await ingest.stop();
    // Back to just after the customer's post, so the poll reads our reply again (the cursor only moves forward).
    await db.update(sources).set({ cursor: customer.id }).where(eq(sources.id, source.id));
    const blind = createXIngest({
      db,
      logger: silentLogger,
      client: xClients(x.url).app,
      pipeline,
      sourceId: source.id,
      mode: 'poll',
      holder: 'poller',
      timings: FAST_TIMINGS,
    });
    await blind.pollOnce();
    expect(await storedIds()).not.toContain(ours.id);
    // That reply named our account: a post of ours whose id Earshot never saved stays out too.
    const unsaved = x.publish({
      text: `${kw}: status page updated`,
      author: { id: ours.author_id, username: 'acme', name: 'Acme Support' },
    });
    await blind.pollOnce();
    expect(await storedIds()).not.toContain(unsaved.id);
    const [sent] = await db.select().from(replies).where(eq(replies.id, reply.id));
    expect(sent?.externalIds).toEqual([ours.id]);
  });

  it('tags the ticket with the tags of the rules a post matched, and ignores posts matching only other deployments’ rules', async () => {
    const { db } = handle();
    const client = xClients(x.url).app;
    await addStreamRule(db, client, lead, { sourceId: source.id, value: `${kw} outage`, tag: 'incident' });
    await addStreamRule(db, client, lead, { sourceId: source.id, value: `@${kw}`, tag: 'brand' });
    // A rule someone else's deployment keeps on the same X app.
    x.rules.set('888', { id: '888', value: `${kw}weather`, tag: 'theirs' });
    await start({ accountId: '42' });

    const both = x.publish({ text: `@${kw} is there a ${kw} outage?`, author: dana });
    const theirs = x.publish({ text: `${kw}weather is lovely`, author: dana });
    await waitFor(async () => (await storedIds()).includes(both.id), 'post stored');
    await pipeline.idle();
    const [item] = await db.select().from(items).where(eq(items.externalId, both.id));
    expect([...item!.tags].sort()).toEqual(['brand', 'incident']);
    const [ticket] = await db.select().from(tickets).where(eq(tickets.id, item!.ticketId!));
    expect([...ticket!.tags].sort()).toEqual(['brand', 'incident']);
    expect(await storedIds()).not.toContain(theirs.id);

    // Posts found by the backfill get the tag of the rule whose search found them.
    for (const ingest of running.splice(0)) await ingest.stop();
    const missed = x.publish({ text: `${kw} outage still`, author: { ...dana, id: '4002' }, stream: false });
    await start({ accountId: '42' });
    await waitFor(async () => (await storedIds()).includes(missed.id), 'backfilled');
    await pipeline.idle();
    const [backfilled] = await db.select().from(items).where(eq(items.externalId, missed.id));
    expect(backfilled!.tags).toEqual(['incident']);
  });
});
