import { eq, inArray, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { rowsOf } from '../../src/db/database.js';
import {
  authors,
  crisisAlerts,
  items,
  jobRuns,
  replies,
  ticketEvents,
  tickets,
  triageCache,
} from '../../src/db/schema/index.js';
import { runRetention } from '../../src/privacy/retention.js';
import { summarize } from '../../src/reports/summarize.js';
import { describeEachDatabase } from '../helpers/database.js';
import { seedSource } from '../helpers/fixtures.js';
import { seedCustomerStory, tablesContaining } from './helpers.js';

const DAY = 86_400_000;
const NOW = new Date('2026-09-01T03:30:00Z');
const OLD = new Date(NOW.getTime() - 120 * DAY);
const RECENT = new Date(NOW.getTime() - 2 * DAY);
const period = { from: new Date(OLD.getTime() - DAY), to: new Date(OLD.getTime() + DAY), now: NOW };

/** The figures of a summary that retention must leave alone (alerts' titles may lose a handle). */
function figures(summary: Awaited<ReturnType<typeof summarize>>) {
  const { crisisAlerts: alerts, ...rest } = summary;
  return { ...rest, alerts: alerts.map((a) => [a.id, a.kind, a.status]) };
}

describeEachDatabase('retention, anonymize mode', (handle) => {
  it('erases old resolved conversations everywhere and keeps what the reports count', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'retention-src');
    const old = await seedCustomerStory(db, { sourceId: source.id, name: 'Zelda', at: OLD });
    // Still open after 120 days: the work is not done, so its data stays.
    const open = await seedCustomerStory(db, { sourceId: source.id, name: 'Yusuf', at: OLD, resolve: false });
    const recent = await seedCustomerStory(db, { sourceId: source.id, name: 'Xenia', at: RECENT });
    const [stray] = await db
      .insert(items)
      .values({
        sourceId: source.id,
        externalId: 'never-triaged',
        authorId: open.ticket.authorId,
        text: 'a post that never became a ticket, from wilma.stray@example.com',
        raw: { from: 'wilma' },
        createdAt: OLD,
        receivedAt: OLD,
      })
      .returning();
    await db.insert(jobRuns).values([
      { job: 'sla-sweep', scheduledFor: new Date(NOW.getTime() - 40 * DAY), runner: 'r', status: 'succeeded' },
      { job: 'sla-sweep', scheduledFor: new Date(NOW.getTime() - DAY), runner: 'r', status: 'succeeded' },
    ]);
    const before = figures(await summarize(db, period));
    expect(before.volume.count).toBe(2);
    expect(before.customersAnswered).toBe(2);

    const result = await runRetention(db, { now: NOW, days: 90, mode: 'anonymize', batchSize: 1 });
    expect(result).toMatchObject({ tickets: 1, items: 2, authors: 1, triageCache: 2, jobRuns: 1 });
    expect(result.alerts).toBe(2);

    for (const secret of old.secrets)
      expect({ secret, tables: await tablesContaining(db, secret) }).toEqual({ secret, tables: [] });
    expect(await tablesContaining(db, 'wilma.stray@example.com')).toEqual([]);
    // The open ticket and the recent one keep their words; the alerts about them are old, so they lose samples.
    expect(await tablesContaining(db, open.itemText)).toEqual(['items']);
    expect(await tablesContaining(db, recent.itemText)).toContain('items');
    expect(await tablesContaining(db, 'Xenia_handle')).toContain('authors');

    const [ticket] = await db.select().from(tickets).where(eq(tickets.id, old.ticket.id));
    expect(ticket).toMatchObject({
      status: 'resolved',
      category: 'complaint',
      sentiment: 'negative',
      topics: ['billing'],
    });
    expect(ticket!.triage.anonymizedAt).toBe(NOW.toISOString());
    expect(ticket!.firstResponseAt).not.toBeNull();
    const [item] = await db.select().from(items).where(eq(items.ticketId, old.ticket.id));
    expect(item).toMatchObject({ text: '', raw: null, url: null, conversationId: null, externalId: 'Zelda-post-1' });
    const [author] = await db.select().from(authors).where(eq(authors.id, old.ticket.authorId));
    expect(author).toMatchObject({ handle: null, displayName: null, externalId: `erased:${author!.id}` });
    const events = await db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, old.ticket.id));
    expect(events.map((e) => e.type)).toEqual(['created', 'replied', 'resolved']);
    expect(events.find((e) => e.type === 'replied')!.details).toEqual({ parts: 1, replyId: expect.any(Number) });
    const [reply] = await db.select().from(replies).where(eq(replies.ticketId, old.ticket.id));
    expect(reply).toMatchObject({ status: 'done', text: '', parts: [], externalIds: [] });
    expect(reply!.sentAt).not.toBeNull();
    const [stored] = await db.select().from(items).where(eq(items.id, stray!.id));
    expect(stored).toMatchObject({ text: '', raw: null });
    const [alert] = await db
      .select()
      .from(crisisAlerts)
      .where(sql`${crisisAlerts.details}->'ticketIds' @> ${JSON.stringify([old.ticket.id])}::jsonb`);
    expect(alert!.details).toMatchObject({
      samples: [],
      topTerms: [],
      title: 'Negative post by an author (99 followers)',
      count: 1,
    });
    expect((await db.select().from(triageCache)).length).toBe(1);
    expect((await db.select().from(jobRuns)).map((r) => r.scheduledFor)).toEqual([new Date(NOW.getTime() - DAY)]);

    // Every figure of the old period's report is what it was.
    expect(figures(await summarize(db, period))).toEqual(before);

    // Once is enough: a second pass finds nothing to do.
    expect(await runRetention(db, { now: NOW, days: 90, mode: 'anonymize' })).toEqual({
      tickets: 0,
      items: 0,
      authors: 0,
      alerts: 0,
      outbox: 0,
      triageCache: 0,
      jobRuns: 0,
    });
  });

  it('keeps customer data when the retention age is 0, but still prunes job history', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'retention-keep');
    const story = await seedCustomerStory(db, {
      sourceId: source.id,
      name: 'Valerie',
      at: new Date(NOW.getTime() - 400 * DAY),
    });
    await db.insert(jobRuns).values({
      job: 'digest-daily',
      scheduledFor: new Date(NOW.getTime() - 50 * DAY),
      runner: 'r',
      status: 'succeeded',
    });
    const result = await runRetention(db, { now: NOW, days: 0, mode: 'delete' });
    expect(result).toMatchObject({ tickets: 0, items: 0, jobRuns: 1 });
    expect(await tablesContaining(db, story.itemText)).toContain('items');
  });
});

describeEachDatabase('retention, delete mode', (handle) => {
  it('deletes old resolved tickets with their items, timeline and replies, and authors left with nothing', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'retention-delete');
    const old = await seedCustomerStory(db, { sourceId: source.id, name: 'Ulla', at: OLD });
    const recent = await seedCustomerStory(db, { sourceId: source.id, name: 'Tomas', at: RECENT });
    const result = await runRetention(db, { now: NOW, days: 90, mode: 'delete', batchSize: 1 });
    expect(result).toMatchObject({ tickets: 1, items: 1, authors: 1 });
    for (const secret of old.secrets)
      expect({ secret, tables: await tablesContaining(db, secret) }).toEqual({ secret, tables: [] });
    expect(await db.select().from(tickets).where(eq(tickets.id, old.ticket.id))).toEqual([]);
    expect(await db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, old.ticket.id))).toEqual([]);
    expect(await db.select().from(replies).where(eq(replies.ticketId, old.ticket.id))).toEqual([]);
    expect(await db.select().from(authors).where(eq(authors.id, old.ticket.authorId))).toEqual([]);
    const kept = await db
      .select()
      .from(tickets)
      .where(inArray(tickets.id, [recent.ticket.id]));
    expect(kept).toHaveLength(1);
    const [events] = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from ticket_events where ticket_id = ${recent.ticket.id}`),
    );
    expect(events!.n).toBe(3);
    expect((await summarize(db, period)).volume.count).toBe(0);
  });
});
