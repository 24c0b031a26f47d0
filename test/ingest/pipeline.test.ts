import { eq, isNull, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { authors, items, outbox, sources, tickets } from '../../src/db/schema/index.js';
import { type AssessFn, createIngestPipeline } from '../../src/ingest/pipeline.js';
import { storeItem } from '../../src/ingest/store-item.js';
import { createSource } from '../../src/sources/sources.js';
import { type DatabaseKind, describeEachDatabase, hasRealPostgres, openTestDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture } from '../helpers/fixtures.js';
import { silentLogger } from './helpers.js';

describeEachDatabase('ingest pipeline', (handle) => {
  it('triages off the caller’s path with bounded concurrency', async () => {
    const { db } = handle();
    const source = await createSource(db, { kind: 'system', name: 'test' }, { name: 'bounded', kind: 'webhook' }, null);
    let inFlight = 0;
    let most = 0;
    const pipeline = createIngestPipeline({
      db,
      logger: silentLogger,
      concurrency: 2,
      groupingWindowMinutes: 0,
      maxTextLength: 1_000,
      assess: async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight -= 1;
        return assessmentFixture();
      },
    });
    const processed: number[] = [];
    pipeline.onProcessed((result) => {
      processed.push(result.item.id);
    });
    const stored = [];
    for (let i = 0; i < 8; i += 1) {
      stored.push(await pipeline.receive(inboundFixture(source.id, { author: { externalId: `bounded-${i}` } })));
    }
    expect(stored.every((s) => !s.duplicate)).toBe(true);
    await pipeline.idle();
    expect(most).toBe(2);
    expect(processed.sort()).toEqual(stored.map((s) => s.item.id).sort());
    await pipeline.stop();
  });

  it('picks up, at start, items a crash left untriaged, and retries a failed triage on the next sweep', async () => {
    const { db } = handle();
    const source = await createSource(db, { kind: 'system', name: 'test' }, { name: 'crashy', kind: 'webhook' }, null);
    // Stored by a process that died before triaging them.
    for (let i = 0; i < 3; i += 1) {
      await storeItem(db, inboundFixture(source.id, { author: { externalId: `crash-${i}` } }), {
        maxTextLength: 1_000,
      });
    }
    let failOnce = true;
    const pipeline = createIngestPipeline({
      db,
      logger: silentLogger,
      groupingWindowMinutes: 0,
      maxTextLength: 1_000,
      sweepIntervalMs: 60_000,
      assess: async () => {
        if (failOnce) {
          failOnce = false;
          throw new Error('the model timed out');
        }
        return assessmentFixture();
      },
    });
    pipeline.start();
    const unprocessed = async () =>
      (await db.select().from(items).where(eq(items.sourceId, source.id))).filter((i) => !i.processedAt).length;
    for (let i = 0; i < 200 && (await unprocessed()) > 1; i += 1) await new Promise((r) => setTimeout(r, 10));
    await pipeline.idle();
    expect(await unprocessed()).toBe(1);
    expect(await pipeline.sweep({ graceMs: 0 })).toBe(1);
    await pipeline.idle();
    expect(await unprocessed()).toBe(0);
    expect(await db.select().from(items).where(isNull(items.processedAt))).toHaveLength(0);
    await pipeline.stop();
  });
});

describeEachDatabase('ingest pipeline: receipt, then triage and tickets in batches', (handle) => {
  const batchingPipeline = (db: Database, assess: AssessFn) =>
    createIngestPipeline({
      db,
      logger: silentLogger,
      groupingWindowMinutes: 60,
      maxTextLength: 1_000,
      sweepIntervalMs: 60_000,
      assess,
    });

  it('leaves to their own receipts, at start, the items received after it began', async () => {
    const { db } = handle();
    const source = await createSource(
      db,
      { kind: 'system', name: 'test' },
      { name: 'replicas', kind: 'webhook' },
      null,
    );
    const left = await storeItem(
      db,
      inboundFixture(source.id, { text: 'left by a crash', author: { externalId: 'crashed' } }),
      {
        maxTextLength: 1_000,
      },
    );
    const triaged: string[] = [];
    const pipeline = batchingPipeline(db, async (item) => {
      triaged.push(item.text);
      return assessmentFixture();
    });
    // Stored once this run began, as another replica's receipt would be: its own triage is on the way.
    // On PGlite (one connection) the start-up sweep's read waits for this transaction, so it reads
    // after the item is there.
    const fresh = await db.transaction(async (tx) => {
      pipeline.start();
      const stored = await storeItem(
        tx,
        inboundFixture(source.id, { text: 'received meanwhile', author: { externalId: 'meanwhile' } }),
        {
          maxTextLength: 1_000,
        },
      );
      // A few milliseconds after the start (which counts up to the next millisecond as before it).
      await new Promise((resolve) => setTimeout(resolve, 5));
      await tx.update(items).set({ receivedAt: sql`clock_timestamp()` }).where(eq(items.id, stored.item.id));
      return stored;
    });
    const read = async (id: number) => (await db.select().from(items).where(eq(items.id, id)))[0];
    for (let i = 0; i < 500 && !(await read(left.item.id))?.processedAt; i += 1) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await pipeline.idle();
    expect(triaged).toEqual(['left by a crash']);
    expect((await read(fresh.item.id))?.processedAt).toBeNull();
    // Should that receipt die too, the periodic sweep (past its grace) takes it.
    expect(await pipeline.sweep({ graceMs: 0 })).toBe(1);
    await pipeline.idle();
    expect(triaged).toEqual(['left by a crash', 'received meanwhile']);
    await pipeline.stop();
  });

  it('answers once the item is stored; its ticket and card row follow, with triage told the author’s history', async () => {
    const { db } = handle();
    const source = await createSource(db, { kind: 'system', name: 'test' }, { name: 'batched', kind: 'webhook' }, null);
    const seen: { text: string; vip: boolean; followers: number; previousContacts?: number }[] = [];
    const pipeline = batchingPipeline(db, async (item, author, _source, history) => {
      seen.push({
        text: item.text,
        vip: author.vip,
        followers: author.followerCount,
        ...(history ? { previousContacts: history.previousContacts } : {}),
      });
      return assessmentFixture({ priority: 'P2' });
    });
    const processed: number[] = [];
    pipeline.onProcessed((result) => {
      processed.push(result.ticket.id);
    });
    const author = { externalId: 'batched-author', handle: 'bat', followerCount: 10 };
    const first = await pipeline.receive(inboundFixture(source.id, { author, text: '  first \u0007post ' }));
    // The durable receipt: stored with its normalized text, not yet a ticket.
    expect(first).toMatchObject({ duplicate: false, item: { text: 'first post', processedAt: null, ticketId: null } });
    await pipeline.idle();
    const [item] = await db.select().from(items).where(eq(items.id, first.item.id));
    expect(item).toMatchObject({ processedAt: expect.any(Date), ticketId: expect.any(Number) });
    const [ticket] = await db.select().from(tickets).where(eq(tickets.id, item!.ticketId!));
    expect(ticket).toMatchObject({ priority: 'P2', itemCount: 1 });
    const cards = await db.select().from(outbox).where(eq(outbox.ticketId, ticket!.id));
    expect(cards.map((c) => c.kind)).toEqual(['card']);

    // The next post of that author (a VIP now, with more followers at the source) is triaged knowing both.
    await db.update(authors).set({ vip: true }).where(eq(authors.id, first.author.id));
    const second = await pipeline.receive(
      inboundFixture(source.id, { author: { ...author, followerCount: 99 }, text: 'second post' }),
    );
    await pipeline.idle();
    expect(seen).toEqual([
      { text: 'first post', vip: false, followers: 10, previousContacts: 0 },
      { text: 'second post', vip: true, followers: 99, previousContacts: 1 },
    ]);
    // Within the grouping window the second post joins the first one's ticket.
    const [joined] = await db.select().from(items).where(eq(items.id, second.item.id));
    expect(joined?.ticketId).toBe(ticket!.id);
    expect(processed).toEqual([ticket!.id, ticket!.id]);
    await pipeline.stop();
  });

  it('counts a receipt still being stored as work: idle() waits for its ticket', async () => {
    const { db } = handle();
    const source = await createSource(
      db,
      { kind: 'system', name: 'test' },
      { name: 'idle-waits', kind: 'webhook' },
      null,
    );
    const pipeline = batchingPipeline(db, async () => assessmentFixture());
    const receipt = pipeline.receive(inboundFixture(source.id, { author: { externalId: 'idle-waits' } }));
    // Asked before the store has answered: it must not resolve with the item still untouched.
    await pipeline.idle();
    const stored = await receipt;
    const [row] = await db.select().from(items).where(eq(items.id, stored.item.id));
    expect(row?.ticketId).not.toBeNull();
    await pipeline.stop();
  });

  it('answers a repeat as a duplicate without triaging it again', async () => {
    const { db } = handle();
    const source = await createSource(
      db,
      { kind: 'system', name: 'test' },
      { name: 'batch-repeat', kind: 'webhook' },
      null,
    );
    let triaged = 0;
    const pipeline = batchingPipeline(db, async () => {
      triaged += 1;
      return assessmentFixture();
    });
    const inbound = inboundFixture(source.id, { author: { externalId: 'repeat-author' } });
    const first = await pipeline.receive(inbound);
    await pipeline.idle();
    const again = await pipeline.receive(inbound);
    expect(again).toMatchObject({ duplicate: true, item: { id: first.item.id, ticketId: expect.any(Number) } });
    await pipeline.idle();
    expect(triaged).toBe(1);
    expect(await db.select().from(items).where(eq(items.sourceId, source.id))).toHaveLength(1);
    await pipeline.stop();
  });

  it('leaves an item whose triage failed stored and unprocessed, and the sweep makes its ticket', async () => {
    const { db } = handle();
    const source = await createSource(
      db,
      { kind: 'system', name: 'test' },
      { name: 'batch-fails', kind: 'webhook' },
      null,
    );
    let calls = 0;
    const pipeline = batchingPipeline(db, async () => {
      calls += 1;
      if (calls === 1) throw new Error('the classifier broke');
      return assessmentFixture();
    });
    const stored = await pipeline.receive(inboundFixture(source.id, { author: { externalId: 'fails-author' } }));
    await pipeline.idle();
    const read = async () => (await db.select().from(items).where(eq(items.id, stored.item.id)))[0];
    // The durable receipt all the same: stored, unprocessed, and nothing half-written.
    expect(await read()).toMatchObject({ processedAt: null, ticketId: null });
    expect(await db.select().from(tickets).where(eq(tickets.sourceId, source.id))).toHaveLength(0);
    expect(await pipeline.sweep({ graceMs: 0 })).toBe(1);
    await pipeline.idle();
    expect((await read())?.ticketId).not.toBeNull();
    expect(await db.select().from(tickets).where(eq(tickets.sourceId, source.id))).toHaveLength(1);
    await pipeline.stop();
  });

  it('keeps one ticket per conversation, and one item per post, when they arrive at once', async () => {
    const { db } = handle();
    const source = await createSource(
      db,
      { kind: 'system', name: 'test' },
      { name: 'batch-race', kind: 'webhook' },
      null,
    );
    const pipeline = batchingPipeline(db, async () => assessmentFixture());
    const thread = Array.from({ length: 12 }, (_, i) =>
      inboundFixture(source.id, { conversationId: 'race-thread', author: { externalId: `racer-${i}` } }),
    );
    await Promise.all(thread.map((post) => pipeline.receive(post)));
    const repeated = inboundFixture(source.id, { author: { externalId: 'repeater' } });
    const repeats = await Promise.all(Array.from({ length: 8 }, () => pipeline.receive(repeated)));
    expect(repeats.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(repeats.map((r) => r.item.id)).size).toBe(1);
    await pipeline.idle();
    const stored = await db.select().from(items).where(eq(items.sourceId, source.id));
    expect(stored).toHaveLength(13);
    expect(stored.every((i) => i.processedAt && i.ticketId)).toBe(true);
    const threadTickets = new Set(stored.filter((i) => i.conversationId === 'race-thread').map((i) => i.ticketId));
    expect(threadTickets.size).toBe(1);
    expect(await db.select().from(tickets).where(eq(tickets.sourceId, source.id))).toHaveLength(2);
    await pipeline.stop();
  });
});

const kinds: DatabaseKind[] = hasRealPostgres ? ['pglite', 'postgres'] : ['pglite'];
for (const kind of kinds) {
  describe(`ingest pipeline with triage that reads the database [${kind}]`, () => {
    it('never waits for a connection that its own batch holds', async () => {
      // PGlite has one connection; on PostgreSQL the pool has two. Triage that reads its settings (as
      // the triage service does when its cached routing rules expire) runs before a batch's
      // transaction opens, so it never waits behind a connection that transaction holds.
      const { db, close } = await openTestDatabase(kind, { maxConnections: 2 });
      try {
        const source = await createSource(
          db,
          { kind: 'system', name: 'test' },
          { name: 'reads-db', kind: 'webhook' },
          null,
        );
        const pipeline = createIngestPipeline({
          db,
          logger: silentLogger,
          groupingWindowMinutes: 0,
          maxTextLength: 1_000,
          assess: async () => {
            await db.select().from(sources).where(eq(sources.id, source.id));
            return assessmentFixture();
          },
        });
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            pipeline.receive(inboundFixture(source.id, { author: { externalId: `reader-${i}` } })),
          ),
        );
        await pipeline.idle();
        const stored = await db.select().from(items).where(eq(items.sourceId, source.id));
        expect(stored.filter((i) => i.ticketId !== null)).toHaveLength(8);
        await pipeline.stop();
      } finally {
        await close();
      }
    });
  });
}
