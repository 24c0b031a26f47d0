import { eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { rowsOf } from '../../src/db/database.js';
import { authors, items, outbox, tickets } from '../../src/db/schema/index.js';
import { isAppError } from '../../src/errors.js';
import { processBatch } from '../../src/ingest/process-batch.js';
import { processItem } from '../../src/ingest/process-item.js';
import { normalizeText, storeItem } from '../../src/ingest/store-item.js';
import { saveSlaPolicies } from '../../src/sla/settings.js';
import { advanceCursor, createSource, getSource } from '../../src/sources/sources.js';
import { recordReply, resolveTicket } from '../../src/tickets/actions.js';
import {
  findTickets,
  getTicketView,
  getTimeline,
  listAuthorTickets,
  listOpenQueue,
} from '../../src/tickets/queries.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';

describeEachDatabase('ingestion', (handle) => {
  it('stores an item once per (source, external id) and opens one ticket', async () => {
    const { db } = handle();
    const source = await seedSource(db);
    const inbound = inboundFixture(source.id, { author: { externalId: 'solo-1', handle: 'solo' } });
    const first = await storeItem(db, inbound, { maxTextLength: 20_000 });
    const again = await storeItem(db, inbound, { maxTextLength: 20_000 });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.item.id).toBe(first.item.id);

    const opened = await processItem(
      db,
      { itemId: first.item.id, assessment: assessmentFixture({ priority: 'P2' }) },
      { groupingWindowMinutes: 60 },
    );
    expect(opened.outcome).toBe('opened');
    expect(opened.ticket).toMatchObject({
      status: 'new',
      priority: 'P2',
      category: 'complaint',
      channel: 'C_FEEDBACK',
      itemCount: 1,
    });
    const repeat = await processItem(
      db,
      { itemId: first.item.id, assessment: assessmentFixture() },
      { groupingWindowMinutes: 60 },
    );
    expect(repeat.outcome).toBe('already_processed');
    expect(repeat.ticket.id).toBe(opened.ticket.id);
    const stored = await db.select().from(items).where(eq(items.externalId, inbound.externalId));
    expect(stored).toHaveLength(1);
    expect(stored[0]?.ticketId).toBe(opened.ticket.id);
    expect(await getTimeline(db, opened.ticket.id)).toHaveLength(1);
  });

  it('makes a stored item its ticket in a batch, and a repeat of the batch returns the same ticket', async () => {
    const { db } = handle();
    const source = await seedSource(db);
    const inbound = inboundFixture(source.id, { author: { externalId: 'batched' } });
    const stored = await storeItem(db, inbound, { maxTextLength: 20_000 });
    const [first] = await processBatch(db, [{ item: stored.item, assessment: assessmentFixture({ priority: 'P2' }) }], {
      groupingWindowMinutes: 60,
    });
    expect(first).toMatchObject({ outcome: 'opened', ticket: { priority: 'P2' } });
    expect(first!.item).toMatchObject({ ticketId: first!.ticket.id, processedAt: expect.any(Date) });
    const [again] = await processBatch(db, [{ item: stored.item, assessment: assessmentFixture({ priority: 'P1' }) }], {
      groupingWindowMinutes: 60,
    });
    expect(again).toMatchObject({ outcome: 'already_processed', ticket: { id: first!.ticket.id, priority: 'P2' } });
    expect(await getTimeline(db, first!.ticket.id)).toHaveLength(1);
  });

  it('sets SLA due times from the priority', async () => {
    const { db } = handle();
    const source = await seedSource(db);
    const { ticket } = await ingestFixture(
      db,
      inboundFixture(source.id, { author: { externalId: 'sla-1' } }),
      assessmentFixture({ priority: 'P1' }),
    );
    expect(ticket.firstResponseDueAt!.getTime() - ticket.createdAt.getTime()).toBe(60 * 60_000);
    expect(ticket.resolutionDueAt!.getTime() - ticket.createdAt.getTime()).toBe(8 * 60 * 60_000);
  });

  it('applies a saved SLA policy to the next item; a new ticket’s event, card row and mark go with its insert', async () => {
    const { db } = handle();
    const source = await seedSource(db);
    const firstResponse = async (externalId: string) => {
      const inbound = inboundFixture(source.id, { externalId, author: { externalId } });
      const { item } = await storeItem(db, inbound, { maxTextLength: 20_000 });
      const [result] = await processBatch(db, [{ item, assessment: assessmentFixture({ priority: 'P1' }) }], {
        groupingWindowMinutes: 0,
      });
      const ticket = result!.ticket;
      return { ticket, minutes: (ticket.firstResponseDueAt!.getTime() - ticket.createdAt.getTime()) / 60_000 };
    };
    await saveSlaPolicies(db, { P1: { firstResponseMinutes: 30 } }, 'UADMIN');
    expect((await firstResponse('sla-30')).minutes).toBe(30);
    await saveSlaPolicies(db, { P1: { firstResponseMinutes: 45 } }, 'UADMIN');
    const { ticket, minutes } = await firstResponse('sla-45');
    expect(minutes).toBe(45);

    expect(ticket).toMatchObject({ status: 'new', version: 1 });
    const [event] = await getTimeline(db, ticket.id);
    expect(event).toMatchObject({
      type: 'created',
      after: { status: 'new', priority: 'P1', category: ticket.category, channel: ticket.channel },
    });
    expect(await db.select().from(outbox).where(eq(outbox.ticketId, ticket.id))).toEqual([
      expect.objectContaining({
        kind: 'card',
        channel: ticket.channel,
        dedupeKey: `card:${ticket.id}`,
        payload: { version: 1 },
      }),
    ]);
    const [item] = await db.select().from(items).where(eq(items.externalId, 'sla-45'));
    expect(item?.ticketId).toBe(ticket.id);
  });

  it('threads a reply in the same conversation into the ticket and reopens a resolved one', async () => {
    const { db } = handle();
    const source = await seedSource(db);
    const agent = userActor('UAGENT');
    const root = inboundFixture(source.id, {
      externalId: 'root-1',
      conversationId: 'conv-1',
      author: { externalId: 'c-1' },
    });
    const { ticket } = await ingestFixture(db, root, assessmentFixture(), 0);
    await recordReply(db, agent, { ticketId: ticket.id, text: 'On it', parts: ['On it'], idempotencyKey: 'k-conv-1' });

    const followUp = inboundFixture(source.id, {
      externalId: 'reply-1',
      conversationId: 'conv-1',
      parentExternalId: 'root-1',
      author: { externalId: 'c-1' },
    });
    const joined = await ingestFixture(db, followUp, assessmentFixture(), 0);
    expect(joined.outcome).toBe('joined');
    expect(joined.ticket).toMatchObject({ id: ticket.id, status: 'claimed', itemCount: 2, slaPausedAt: null });

    await resolveTicket(db, agent, { ticketId: ticket.id });
    const again = inboundFixture(source.id, {
      externalId: 'reply-2',
      conversationId: 'conv-1',
      author: { externalId: 'c-1' },
    });
    const reopened = await ingestFixture(db, again, assessmentFixture(), 0);
    expect(reopened.outcome).toBe('reopened');
    expect(reopened.ticket).toMatchObject({ id: ticket.id, status: 'claimed', resolvedAt: null, itemCount: 3 });
    const types = (await getTimeline(db, ticket.id)).map((e) => e.type);
    expect(types).toEqual(['created', 'replied', 'customer_message', 'resolved', 'reopened']);
    const view = await getTicketView(db, ticket.id);
    expect(view.items.map((i) => i.externalId)).toEqual(['root-1', 'reply-1', 'reply-2']);
  });

  it("joins the same author's second post within the window, raising the priority if needed", async () => {
    const { db } = handle();
    const source = await seedSource(db);
    const author = { externalId: 'window-1', handle: 'w' };
    const first = await ingestFixture(
      db,
      inboundFixture(source.id, { author, conversationId: 'a' }),
      assessmentFixture({ priority: 'P3' }),
    );
    const second = await ingestFixture(
      db,
      inboundFixture(source.id, { author, conversationId: 'b' }),
      assessmentFixture({ priority: 'P1', priorityReasons: ['outage'], tags: ['outage'] }),
    );
    expect(second.outcome).toBe('joined');
    expect(second.ticket).toMatchObject({
      id: first.ticket.id,
      priority: 'P1',
      priorityReasons: ['outage'],
      tags: ['outage'],
    });
  });

  it('opens a separate ticket for another author, and when grouping is off', async () => {
    const { db } = handle();
    const source = await seedSource(db);
    const a = await ingestFixture(db, inboundFixture(source.id, { author: { externalId: 'sep-1' } }));
    const b = await ingestFixture(db, inboundFixture(source.id, { author: { externalId: 'sep-2' } }));
    const c = await ingestFixture(
      db,
      inboundFixture(source.id, { author: { externalId: 'sep-1' } }),
      assessmentFixture(),
      0,
    );
    expect(new Set([a.ticket.id, b.ticket.id, c.ticket.id]).size).toBe(3);
  });

  it('refreshes author facts but keeps the VIP flag', async () => {
    const { db } = handle();
    const source = await seedSource(db);
    await ingestFixture(
      db,
      inboundFixture(source.id, { author: { externalId: 'vip-1', handle: 'old', followerCount: 10 } }),
    );
    await db.update(authors).set({ vip: true }).where(eq(authors.externalId, 'vip-1'));
    await ingestFixture(
      db,
      inboundFixture(source.id, {
        author: { externalId: 'vip-1', handle: 'new', followerCount: 5000, verified: true },
      }),
    );
    const [author] = await db.select().from(authors).where(eq(authors.externalId, 'vip-1'));
    expect(author).toMatchObject({ handle: 'new', followerCount: 5000, verified: true, vip: true });
  });

  it('rejects empty and oversize text without storing anything', async () => {
    const { db } = handle();
    const source = await seedSource(db);
    const before = (await db.select().from(items)).length;
    for (const [text, code] of [
      ['   ', 'invalid_input'],
      ['x'.repeat(101), 'payload_too_large'],
    ] as const) {
      const err = await storeItem(db, inboundFixture(source.id, { text }), { maxTextLength: 100 }).catch(
        (e: unknown) => e,
      );
      expect(isAppError(err, code)).toBe(true);
    }
    expect(await db.select().from(items)).toHaveLength(before);
  });

  it('normalises text: control characters removed, line ends folded', () => {
    expect(normalizeText(' a\r\nb\u0000c\u202Ed ')).toBe('a\nbc\u202Ed');
  });

  it('moves the cursor forward only, comparing ids beyond 2^53 as numbers', async () => {
    const { db } = handle();
    const source = await createSource(db, { kind: 'system', name: 'test' }, { name: 'x-cursor', kind: 'x' }, null);
    await advanceCursor(db, source.id, '1800000000000000001');
    await advanceCursor(db, source.id, '999');
    expect((await getSource(db, source.id))?.cursor).toBe('1800000000000000001');
    await advanceCursor(db, source.id, '1800000000000000010');
    expect((await getSource(db, source.id))?.cursor).toBe('1800000000000000010');
  });

  it('gives webhook sources a secret and refuses bad or duplicate names', async () => {
    const { db } = handle();
    const admin = userActor('UADMIN', 'admin');
    const created = await createSource(db, admin, { name: 'App-Feedback', kind: 'webhook' }, null);
    expect(created.name).toBe('app-feedback');
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    await expect(createSource(db, admin, { name: 'app-feedback', kind: 'webhook' }, null)).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(createSource(db, admin, { name: 'bad name!', kind: 'webhook' }, null)).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(
      createSource(db, userActor('ULEAD', 'lead'), { name: 'nope', kind: 'webhook' }, null),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('writes nothing when processing fails, even after the ticket row was inserted', async () => {
    const { db } = handle();
    const counts = async () =>
      rowsOf<{ tickets: number; events: number; outbox: number }>(
        await db.execute(sql`select (select count(*)::int from tickets) as tickets,
                                    (select count(*)::int from ticket_events) as events,
                                    (select count(*)::int from outbox) as outbox`),
      )[0];
    const before = await counts();
    const missing = await processItem(
      db,
      { itemId: 987_654, assessment: assessmentFixture() },
      { groupingWindowMinutes: 0 },
    ).catch((e: unknown) => e);
    expect(isAppError(missing, 'not_found')).toBe(true);
    expect(await counts()).toEqual(before);

    // The created event cannot be written (its details do not serialize): the ticket insert before it goes too.
    const source = await seedSource(db);
    const stored = await storeItem(db, inboundFixture(source.id, { author: { externalId: 'half-way' } }), {
      maxTextLength: 20_000,
    });
    const failed = await processItem(
      db,
      { itemId: stored.item.id, assessment: assessmentFixture({ channel: 'C_HALFWAY', notify: 1n as never }) },
      { groupingWindowMinutes: 0 },
    ).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect(await counts()).toEqual(before);
    expect(await db.select().from(tickets).where(eq(tickets.channel, 'C_HALFWAY'))).toEqual([]);
    const [item] = await db.select().from(items).where(eq(items.id, stored.item.id));
    expect(item).toMatchObject({ ticketId: null, processedAt: null });
    // Processing it again, with triage that works, opens its ticket as if nothing had happened.
    const retried = await processItem(
      db,
      { itemId: stored.item.id, assessment: assessmentFixture({ channel: 'C_HALFWAY' }) },
      { groupingWindowMinutes: 0 },
    );
    expect(retried).toMatchObject({ outcome: 'opened', ticket: { channel: 'C_HALFWAY' } });
  });

  it('finds tickets by id, handle and text, lists the queue and an author history', async () => {
    const { db } = handle();
    const source = await seedSource(db);
    const author = { externalId: 'finder-1', handle: 'FinderPerson' };
    const a = await ingestFixture(
      db,
      inboundFixture(source.id, { author, text: 'The zebra-coloured parcel is lost' }),
      assessmentFixture({ priority: 'P4' }),
      0,
    );
    const b = await ingestFixture(
      db,
      inboundFixture(source.id, { author, text: 'Second note' }),
      assessmentFixture({ priority: 'P1' }),
      0,
    );
    expect((await findTickets(db, `#${a.ticket.id}`, { limit: 5 })).map((t) => t.id)).toEqual([a.ticket.id]);
    expect((await findTickets(db, '@finderperson', { limit: 5 })).map((t) => t.id).sort()).toEqual(
      [a.ticket.id, b.ticket.id].sort(),
    );
    expect((await findTickets(db, 'zebra-coloured', { limit: 5 })).map((t) => t.id)).toEqual([a.ticket.id]);
    expect(await findTickets(db, '100%_', { limit: 5 })).toEqual([]);
    const history = await listAuthorTickets(db, a.ticket.authorId, { limit: 10 });
    expect(history.map((t) => t.id).sort()).toEqual([a.ticket.id, b.ticket.id].sort());
    const queue = await listOpenQueue(db, { limit: 500 });
    const positions = [queue.findIndex((t) => t.id === b.ticket.id), queue.findIndex((t) => t.id === a.ticket.id)];
    expect(positions[0]).toBeGreaterThanOrEqual(0);
    expect(positions[0]!).toBeLessThan(positions[1]!);
  });
});
