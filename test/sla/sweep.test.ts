import { and, asc, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { outbox, ticketEvents, tickets } from '../../src/db/schema/index.js';
import { processItem } from '../../src/ingest/process-item.js';
import { storeItem } from '../../src/ingest/store-item.js';
import { saveSlaPolicies } from '../../src/sla/settings.js';
import { runSlaSweep, type SlaSweepOptions } from '../../src/sla/sweep.js';
import { claimTicket, recordReply } from '../../src/tickets/actions.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, seedSource, userActor } from '../helpers/fixtures.js';

const T0 = new Date('2026-03-02T10:00:00Z'); // a Monday
const minutes = (m: number) => new Date(T0.getTime() + m * 60_000);

let authorSeq = 0;
async function openTicket(db: Database, priority: 'P1' | 'P2' | 'P3' | 'P4', at = T0) {
  const source = await seedSource(db, 'sla-test');
  authorSeq += 1;
  const inbound = inboundFixture(source.id, {
    author: { externalId: `sla-author-${authorSeq}`, handle: `c${authorSeq}` },
    createdAt: at,
  });
  const stored = await storeItem(db, inbound, { maxTextLength: 20_000 });
  const processed = await processItem(
    db,
    { itemId: stored.item.id, assessment: assessmentFixture({ priority, channel: 'C0FEEDBACK' }) },
    { groupingWindowMinutes: 0, now: at },
  );
  return processed.ticket;
}

const base: Omit<SlaSweepOptions, 'now'> = {
  leadsChannel: 'C0LEADS',
  onDutyGroups: { '*': 'S0ONDUTY' },
  escalateOnDutyMinutes: 0,
  escalateLeadsMinutes: 0,
};

async function eventsOf(db: Database, ticketId: number, type: string) {
  return db
    .select()
    .from(ticketEvents)
    .where(and(eq(ticketEvents.ticketId, ticketId), eq(ticketEvents.type, type)));
}

async function messagesOf(db: Database, ticketId: number) {
  const rows = await db.select().from(outbox).where(eq(outbox.ticketId, ticketId)).orderBy(asc(outbox.id));
  return rows.filter((r) => r.kind === 'message' || r.kind === 'dm');
}

describeEachDatabase('SLA sweep', (handle) => {
  it('warns at 75% and breaches at 100% of the first-response target, each alert once', async () => {
    const { db } = handle();
    const ticket = await openTicket(db, 'P1'); // 60 minutes to first response
    expect((await runSlaSweep(db, { ...base, now: minutes(44) })).warned).toBe(0);

    expect((await runSlaSweep(db, { ...base, now: minutes(45) })).warned).toBe(1);
    expect((await runSlaSweep(db, { ...base, now: minutes(50) })).warned).toBe(0);
    let [row] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
    expect(row!.firstResponseSla).toBe('warning');
    expect(await eventsOf(db, ticket.id, 'sla_warning')).toHaveLength(1);
    let messages = await messagesOf(db, ticket.id);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.channel).toBe('C0FEEDBACK');
    expect(String(messages[0]!.payload.text)).toContain('<!subteam^S0ONDUTY>');

    expect((await runSlaSweep(db, { ...base, now: minutes(60) })).breached).toBe(1);
    expect((await runSlaSweep(db, { ...base, now: minutes(90) })).breached).toBe(0);
    [row] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
    expect(row!.firstResponseSla).toBe('breached');
    expect(await eventsOf(db, ticket.id, 'sla_breached')).toHaveLength(1);
    messages = await messagesOf(db, ticket.id);
    expect(messages.map((m) => m.channel)).toEqual(['C0FEEDBACK', 'C0FEEDBACK', 'C0LEADS']);
    // The card's thread gets a line per alert, and the card a refresh.
    const threadRows = await db
      .select()
      .from(outbox)
      .where(and(eq(outbox.ticketId, ticket.id), eq(outbox.kind, 'thread')));
    expect(threadRows.length).toBeGreaterThanOrEqual(2);
  });

  it('DMs the assignee of a claimed ticket instead of pinging the channel', async () => {
    const { db } = handle();
    const ticket = await openTicket(db, 'P2'); // 4 h to first response
    await claimTicket(db, userActor('U0AGENT'), { ticketId: ticket.id, now: minutes(5) });
    await runSlaSweep(db, { ...base, now: minutes(180) });
    const messages = await messagesOf(db, ticket.id);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.kind).toBe('dm');
    expect(messages[0]!.payload).toMatchObject({ user: 'U0AGENT' });
  });

  it('marks a target met when the reply came in time, with no alert', async () => {
    const { db } = handle();
    const ticket = await openTicket(db, 'P1');
    await recordReply(db, userActor('U0AGENT'), {
      ticketId: ticket.id,
      text: 'On it',
      parts: ['On it'],
      idempotencyKey: `met-${ticket.id}`,
      now: minutes(20),
    });
    const result = await runSlaSweep(db, { ...base, now: minutes(70) });
    expect(result.breached).toBe(0);
    const [row] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
    expect(row!.firstResponseSla).toBe('met');
    expect(await messagesOf(db, ticket.id)).toHaveLength(0);
    // Waiting on the customer: the resolution clock (8 h) stands still from minute 20.
    await runSlaSweep(db, { ...base, now: minutes(60 * 24) });
    const [later] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
    expect(later!.resolutionSla).toBe('ok');
  });

  it('escalates an unclaimed ticket to the on-duty group, then to the leads channel, once each', async () => {
    const { db } = handle();
    const ticket = await openTicket(db, 'P4');
    const chain = { ...base, escalateOnDutyMinutes: 30, escalateLeadsMinutes: 120 };
    const tierAt = async (m: number) => {
      await runSlaSweep(db, { ...chain, now: minutes(m) });
      const [row] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
      return row!.escalationTier;
    };
    expect(await tierAt(29)).toBe(0);
    expect(await tierAt(31)).toBe(1);
    expect(await tierAt(60)).toBe(1);
    expect(await tierAt(121)).toBe(2);
    expect(await tierAt(200)).toBe(2);
    const [row] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
    expect(row!.escalationTier).toBe(2);
    const messages = await messagesOf(db, ticket.id);
    expect(messages.map((m) => m.channel)).toEqual(['C0FEEDBACK', 'C0LEADS']);
    expect(String(messages[0]!.payload.text)).toContain('<!subteam^S0ONDUTY>');
    expect(await eventsOf(db, ticket.id, 'escalated')).toHaveLength(2);
  });

  it('counts targets in business hours from the stored policy', async () => {
    const { db } = handle();
    await saveSlaPolicies(
      db,
      {
        P3: {
          firstResponseMinutes: 120,
          businessHours: { days: [1, 2, 3, 4, 5], startMinute: 540, endMinute: 1020, timeZone: 'UTC' },
        },
      },
      'U0ADMIN',
    );
    // Friday 16:30 UTC: 30 business minutes on Friday, the rest on Monday from 09:00.
    const friday = new Date('2026-03-06T16:30:00Z');
    const ticket = await openTicket(db, 'P3', friday);
    const saturday = new Date('2026-03-07T12:00:00Z');
    await runSlaSweep(db, { ...base, now: saturday });
    let [row] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
    expect(row!.firstResponseSla).toBe('ok');
    expect(row!.firstResponseDueAt).toEqual(new Date('2026-03-09T10:30:00Z'));
    await runSlaSweep(db, { ...base, now: new Date('2026-03-09T10:00:00Z') });
    [row] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
    expect(row!.firstResponseSla).toBe('warning');
    await saveSlaPolicies(db, { P3: { firstResponseMinutes: 24 * 60, businessHours: null } }, 'U0ADMIN');
  });

  it('two sweeps at the same moment raise one alert', async () => {
    const { db } = handle();
    const ticket = await openTicket(db, 'P1');
    const results = await Promise.all([
      runSlaSweep(db, { ...base, now: minutes(46) }),
      runSlaSweep(db, { ...base, now: minutes(46) }),
    ]);
    expect(results.reduce((n, r) => n + r.warned, 0)).toBe(1);
    expect(await eventsOf(db, ticket.id, 'sla_warning')).toHaveLength(1);
    expect(await messagesOf(db, ticket.id)).toHaveLength(1);
  });
});
