import { and, eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { items, outbox, ticketEvents, tickets } from '../../src/db/schema/index.js';
import { planBatch, processBatch, type TriagedItem } from '../../src/ingest/process-batch.js';
import { type InboundItem, storeItem } from '../../src/ingest/store-item.js';
import { DEFAULT_SLA_TARGETS } from '../../src/sla/policy.js';
import type { Item } from '../../src/tickets/types.js';
import type { Assessment } from '../../src/triage/types.js';
import { describeEachDatabase, hasRealPostgres, openTestDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource } from '../helpers/fixtures.js';

type BatchReads = Parameters<typeof planBatch>[1];

const NOW = new Date('2026-11-20T10:00:00.000Z');

let nextId = 1_000;

/** A stored, unprocessed item as `planBatch` sees it; no database involved. */
function itemFixture(overrides: Partial<Item> = {}): Item {
  nextId += 1;
  return {
    id: nextId,
    sourceId: 1,
    externalId: `post-${nextId}`,
    authorId: nextId,
    ticketId: null,
    text: 'My order never arrived',
    url: null,
    conversationId: null,
    parentExternalId: null,
    language: null,
    raw: null,
    tags: [],
    archived: false,
    triage: null,
    createdAt: NOW,
    receivedAt: NOW,
    processedAt: null,
    ...overrides,
  };
}

/** What the first round trip would read for these items: all present and unprocessed, nothing else. */
function readsFor(batch: readonly TriagedItem[], overrides: Partial<BatchReads> = {}): BatchReads {
  return {
    locked: new Map(batch.map(({ item }) => [item.id, { processedAt: null, ticketId: null }])),
    facts: {
      incidentsOpen: false,
      sources: new Map([[1, { kind: 'webhook', settings: {} }]]),
      slaPolicies: DEFAULT_SLA_TARGETS,
    },
    candidates: [],
    parents: new Map(),
    ...overrides,
  };
}

const entry = (item: Item, assessment: Assessment = assessmentFixture()): TriagedItem => ({ item, assessment });

/** Which items of the batch the plan opens plainly, by external id. */
function opened(batch: readonly TriagedItem[], reads: BatchReads, windowMinutes = 60): string[] {
  const plan = planBatch(batch, reads, windowMinutes);
  expect([...plan.opens, ...plan.others]).toHaveLength(batch.length);
  return plan.opens.map((e) => e.item.externalId);
}

describe('planBatch', () => {
  it('opens a plain new ticket for each unrelated new item, and leaves the rest to the one-item path in order', () => {
    const a = entry(itemFixture({ externalId: 'a' }));
    const b = entry(itemFixture({ externalId: 'b', archived: true }));
    const c = entry(itemFixture({ externalId: 'c', conversationId: 'thread-c' }));
    const d = entry(itemFixture({ externalId: 'd', archived: true }));
    const plan = planBatch([a, b, c, d], readsFor([a, b, c, d]), 60);
    expect(plan.opens).toEqual([a, c]);
    expect(plan.others).toEqual([b, d]);
  });

  it('sends imported history to the one-item path', () => {
    const batch = [
      entry(itemFixture({ externalId: 'live' })),
      entry(itemFixture({ externalId: 'old', archived: true })),
    ];
    expect(opened(batch, readsFor(batch))).toEqual(['live']);
  });

  it('sends every item to the one-item path while an incident is open', () => {
    const batch = [entry(itemFixture()), entry(itemFixture())];
    const reads = readsFor(batch);
    expect(opened(batch, { ...reads, facts: { ...reads.facts, incidentsOpen: true } })).toEqual([]);
  });

  it('sends items of a source that auto-acknowledges to the one-item path', () => {
    const ack = { autoAck: { enabled: true, template: 'Thanks, we are on it' } };
    const batch = [
      entry(itemFixture({ externalId: 'acked', sourceId: 2 })),
      entry(itemFixture({ externalId: 'x-no-public', sourceId: 3 })),
      entry(itemFixture({ externalId: 'ack-off', sourceId: 4 })),
      entry(itemFixture({ externalId: 'plain', sourceId: 1 })),
    ];
    const reads = readsFor(batch);
    const sources: BatchReads['facts']['sources'] = new Map([
      [1, { kind: 'webhook', settings: {} }],
      [2, { kind: 'webhook', settings: ack }],
      // An X source answers in public only with `publicPosts`: without it, nothing is acknowledged.
      [3, { kind: 'x', settings: ack }],
      [4, { kind: 'webhook', settings: { autoAck: { ...ack.autoAck, enabled: false } } }],
    ]);
    expect(opened(batch, { ...reads, facts: { ...reads.facts, sources } })).toEqual([
      'x-no-public',
      'ack-off',
      'plain',
    ]);
  });

  it('sends an item whose routing rule notifies someone to the one-item path', () => {
    const rule = { id: 7, name: 'outages' };
    const batch = [
      entry(itemFixture({ externalId: 'notified' }), assessmentFixture({ notify: 'S0TEAM', rule })),
      entry(itemFixture({ externalId: 'rule-only' }), assessmentFixture({ rule })),
      entry(itemFixture({ externalId: 'notify-no-rule' }), assessmentFixture({ notify: 'S0TEAM', rule: null })),
    ];
    expect(opened(batch, readsFor(batch))).toEqual(['rule-only', 'notify-no-rule']);
  });

  it('sends an item that has a ticket to join (its conversation’s, or its author’s within the window) to the one-item path', () => {
    const inThread = itemFixture({ externalId: 'in-thread', conversationId: 'thread-1' });
    const otherSource = itemFixture({ externalId: 'other-source', conversationId: 'thread-2' });
    const regular = itemFixture({ externalId: 'regular', authorId: 42 });
    const batch = [entry(inThread), entry(otherSource), entry(regular)];
    const candidate = { status: 'new' as const, lastCustomerMessageAt: new Date(NOW.getTime() - 10 * 60_000) };
    const reads = readsFor(batch, {
      candidates: [
        { id: 1, sourceId: 1, authorId: 999, conversationId: 'thread-1', ...candidate },
        // The same conversation id at another source is another conversation.
        { id: 2, sourceId: 9, authorId: 999, conversationId: 'thread-2', ...candidate },
        { id: 3, sourceId: 1, authorId: 42, conversationId: 'elsewhere', ...candidate },
      ],
    });
    expect(opened(batch, reads, 60)).toEqual(['other-source']);
    // Without a grouping window only the conversation decides.
    expect(opened(batch, reads, 0)).toEqual(['other-source', 'regular']);
  });

  it('sends a reply whose parent post has a ticket, or came earlier in the batch, to the one-item path', () => {
    const parent = itemFixture({ externalId: 'parent' });
    const replyToBatch = itemFixture({ externalId: 'reply-1', parentExternalId: 'parent' });
    const replyToTicket = itemFixture({ externalId: 'reply-2', parentExternalId: 'old-parent' });
    const replyToUnprocessed = itemFixture({ externalId: 'reply-3', parentExternalId: 'waiting-parent' });
    const replyElsewhere = itemFixture({ externalId: 'reply-4', sourceId: 2, parentExternalId: 'old-parent' });
    const batch = [parent, replyToBatch, replyToTicket, replyToUnprocessed, replyElsewhere].map((i) => entry(i));
    const reads = readsFor(batch, {
      parents: new Map([
        ['1:old-parent', 31],
        // Stored but not made into a ticket yet: nothing to join.
        ['1:waiting-parent', null],
      ]),
    });
    reads.facts.sources.set(2, { kind: 'webhook', settings: {} });
    expect(opened(batch, reads)).toEqual(['parent', 'reply-3', 'reply-4']);
  });

  it('sends an item sharing an author or a conversation with an earlier item of the batch to the one-item path', () => {
    const batch = [
      entry(itemFixture({ externalId: 'first', authorId: 5 })),
      entry(itemFixture({ externalId: 'same-author', authorId: 5 })),
      entry(itemFixture({ externalId: 'thread-start', conversationId: 'thread-9' })),
      entry(itemFixture({ externalId: 'same-thread', conversationId: 'thread-9' })),
      // A post without a conversation id is its own conversation: it shares no key with another.
      entry(itemFixture({ externalId: 'loner' })),
      entry(itemFixture({ externalId: 'same-thread-elsewhere', sourceId: 2, conversationId: 'thread-9' })),
    ];
    const reads = readsFor(batch);
    reads.facts.sources.set(2, { kind: 'webhook', settings: {} });
    expect(opened(batch, reads, 0)).toEqual(['first', 'thread-start', 'loner', 'same-thread-elsewhere']);
  });

  it('sends an item processed meanwhile, or gone, to the one-item path', () => {
    const processed = itemFixture({ externalId: 'processed' });
    const gone = itemFixture({ externalId: 'gone' });
    const fresh = itemFixture({ externalId: 'fresh' });
    const batch = [entry(processed), entry(gone), entry(fresh)];
    const reads = readsFor(batch);
    reads.locked.set(processed.id, { processedAt: NOW, ticketId: 12 });
    reads.locked.delete(gone.id);
    expect(opened(batch, reads)).toEqual(['fresh']);
  });
});

const LIMITS = { maxTextLength: 2_000 };

async function storeTriaged(
  db: Database,
  inbound: InboundItem,
  assessment = assessmentFixture(),
): Promise<TriagedItem> {
  const { item } = await storeItem(db, inbound, LIMITS);
  return { item, assessment };
}

describeEachDatabase('processBatch', (handle) => {
  it('opens one ticket per new item, with its created event, one card row, SLA due times and the item marked', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'batch-opens');
    const priorities = ['P1', 'P3', 'P4'] as const;
    const batch = await Promise.all(
      priorities.map((priority, i) =>
        storeTriaged(
          db,
          inboundFixture(source.id, { author: { externalId: `opens-${i}` }, tags: ['from-source'] }),
          assessmentFixture({ priority, tags: ['routed'], channel: `C_${priority}` }),
        ),
      ),
    );
    const results = await processBatch(db, batch, { groupingWindowMinutes: 60, now: NOW });

    expect(results.map((r) => r?.outcome)).toEqual(['opened', 'opened', 'opened']);
    const ticketIds = results.map((r) => r!.ticket.id);
    expect(new Set(ticketIds).size).toBe(3);
    const stored = await db.select().from(tickets).where(inArray(tickets.id, ticketIds));
    for (const [i, result] of results.entries()) {
      const { item, assessment } = batch[i]!;
      const priority = priorities[i]!;
      const ticket = stored.find((t) => t.id === result!.ticket.id);
      // The ticket answered is the row as stored.
      expect(result!.ticket).toEqual(ticket);
      expect(ticket).toMatchObject({
        sourceId: source.id,
        authorId: item.authorId,
        conversationId: item.externalId,
        status: 'new',
        priority,
        channel: `C_${priority}`,
        itemCount: 1,
        version: 1,
        tags: ['routed', 'from-source'],
        lastCustomerMessageAt: item.createdAt,
        createdAt: NOW,
        firstResponseDueAt: new Date(NOW.getTime() + DEFAULT_SLA_TARGETS[priority].firstResponseMinutes * 60_000),
        resolutionDueAt: new Date(NOW.getTime() + DEFAULT_SLA_TARGETS[priority].resolutionMinutes * 60_000),
      });
      const events = await db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, ticket!.id));
      expect(events).toMatchObject([
        {
          type: 'created',
          actor: 'system:ingest',
          after: { status: 'new', priority, category: 'complaint', channel: `C_${priority}` },
          details: { itemId: item.id },
        },
      ]);
      const rows = await db.select().from(outbox).where(eq(outbox.ticketId, ticket!.id));
      expect(rows).toMatchObject([
        { kind: 'card', channel: `C_${priority}`, dedupeKey: `card:${ticket!.id}`, payload: { version: 1 } },
      ]);
      const [marked] = await db.select().from(items).where(eq(items.id, item.id));
      expect(marked).toMatchObject({ ticketId: ticket!.id, processedAt: NOW, triage: assessment.triage });
      expect(result!.item).toEqual(marked);
    }
  });

  it('puts two items of one author in one batch on one ticket when the grouping window is open', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'batch-author');
    const author = { externalId: 'batch-same-author' };
    const first = await storeTriaged(db, inboundFixture(source.id, { author }));
    const second = await storeTriaged(db, inboundFixture(source.id, { author }), assessmentFixture({ priority: 'P2' }));
    const results = await processBatch(db, [first, second], { groupingWindowMinutes: 60, now: NOW });

    expect(results.map((r) => r?.outcome)).toEqual(['opened', 'joined']);
    expect(results[1]?.ticket.id).toBe(results[0]?.ticket.id);
    const authorTickets = await db.select().from(tickets).where(eq(tickets.authorId, first.item.authorId));
    // The later item raised the priority as it joined.
    expect(authorTickets).toMatchObject([{ id: results[0]!.ticket.id, itemCount: 2, priority: 'P2', version: 2 }]);
    const marked = await db.select().from(items).where(eq(items.sourceId, source.id));
    expect(marked.map((i) => i.ticketId)).toEqual([results[0]!.ticket.id, results[0]!.ticket.id]);
    const cards = await db
      .select()
      .from(outbox)
      .where(and(eq(outbox.ticketId, results[0]!.ticket.id), eq(outbox.kind, 'card')));
    expect(cards).toMatchObject([{ payload: { version: 2 } }]);

    // With no window, the same author's next post opens a ticket of its own.
    const third = await storeTriaged(db, inboundFixture(source.id, { author }));
    const fourth = await storeTriaged(db, inboundFixture(source.id, { author }));
    const apart = await processBatch(db, [third, fourth], { groupingWindowMinutes: 0, now: NOW });
    expect(apart.map((r) => r?.outcome)).toEqual(['opened', 'opened']);
    expect(apart[0]?.ticket.id).not.toBe(apart[1]?.ticket.id);
  });

  it('joins an item to the ticket its conversation already has', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'batch-thread');
    const existing = await ingestFixture(
      db,
      inboundFixture(source.id, { conversationId: 'batch-conv', author: { externalId: 'thread-starter' } }),
    );
    const reply = await storeTriaged(
      db,
      inboundFixture(source.id, { conversationId: 'batch-conv', author: { externalId: 'thread-replier' } }),
    );
    const unrelated = await storeTriaged(db, inboundFixture(source.id, { author: { externalId: 'thread-unrelated' } }));
    const results = await processBatch(db, [reply, unrelated], { groupingWindowMinutes: 0, now: NOW });

    expect(results.map((r) => r?.outcome)).toEqual(['joined', 'opened']);
    expect(results[0]?.ticket).toMatchObject({ id: existing.ticket.id, itemCount: 2 });
    const [ticket] = await db.select().from(tickets).where(eq(tickets.id, existing.ticket.id));
    expect(ticket).toMatchObject({ itemCount: 2, conversationId: 'batch-conv' });
    const events = await db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, existing.ticket.id));
    expect(events.map((e) => e.type)).toEqual(['created', 'customer_message']);
  });

  it('answers an item already processed with its ticket, and an item gone with null, writing nothing for either', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'batch-done');
    const done = await storeTriaged(db, inboundFixture(source.id, { author: { externalId: 'done-author' } }));
    // Another worker processed it after this batch was read.
    const first = await processBatch(db, [done], { groupingWindowMinutes: 60 });
    const gone = await storeTriaged(db, inboundFixture(source.id, { author: { externalId: 'gone-author' } }));
    await db.delete(items).where(eq(items.id, gone.item.id));
    const fresh = await storeTriaged(db, inboundFixture(source.id, { author: { externalId: 'fresh-author' } }));

    const results = await processBatch(db, [done, gone, fresh], { groupingWindowMinutes: 60, now: NOW });
    expect(results[0]).toMatchObject({ outcome: 'already_processed', ticket: { id: first[0]!.ticket.id } });
    expect(results[1]).toBeNull();
    expect(results[2]?.outcome).toBe('opened');
    const sourceTickets = await db.select().from(tickets).where(eq(tickets.sourceId, source.id));
    expect(sourceTickets.map((t) => t.id).sort()).toEqual([first[0]!.ticket.id, results[2]!.ticket.id].sort());
    expect(sourceTickets.find((t) => t.id === first[0]!.ticket.id)?.itemCount).toBe(1);
    expect(await processBatch(db, [], { groupingWindowMinutes: 60 })).toEqual([]);
  });
});

describe.runIf(hasRealPostgres)('processBatch, two at once [postgres]', () => {
  it('ends two batches over overlapping conversations with one ticket per conversation, and no deadlock', async () => {
    const { db, close } = await openTestDatabase('postgres', { maxConnections: 4 });
    try {
      const source = await seedSource(db, 'batch-race');
      const conversations = Array.from({ length: 12 }, (_, i) => `race-conv-${i}`);
      const post = (conversationId: string, author: string) =>
        storeTriaged(db, inboundFixture(source.id, { conversationId, author: { externalId: author } }));
      for (let round = 0; round < 3; round += 1) {
        const left: TriagedItem[] = [];
        const right: TriagedItem[] = [];
        for (const [i, conv] of conversations.entries()) {
          const c = `${conv}-${round}`;
          left.push(await post(c, `left-${round}-${i}`));
          right.push(await post(c, `right-${round}-${i}`));
        }
        // The other batch takes the same conversations in the opposite order.
        right.reverse();
        const outcome = await Promise.race([
          Promise.all([
            processBatch(db, left, { groupingWindowMinutes: 60 }),
            processBatch(db, right, { groupingWindowMinutes: 60 }),
          ]),
          new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 15_000)),
        ]);
        expect(outcome).not.toBe('stuck');
        const [a, b] = outcome as Awaited<ReturnType<typeof processBatch>>[];
        expect([...a!, ...b!].every((r) => r !== null)).toBe(true);
        const roundConversations = conversations.map((c) => `${c}-${round}`);
        const opened = await db.select().from(tickets).where(inArray(tickets.conversationId, roundConversations));
        expect(opened).toHaveLength(conversations.length);
        expect(opened.every((t) => t.itemCount === 2)).toBe(true);
        const marked = await db.select().from(items).where(inArray(items.conversationId, roundConversations));
        expect(marked.every((i) => i.processedAt !== null)).toBe(true);
        for (const conv of roundConversations) {
          expect(new Set(marked.filter((i) => i.conversationId === conv).map((i) => i.ticketId)).size).toBe(1);
        }
      }
    } finally {
      await close();
    }
  });
});
