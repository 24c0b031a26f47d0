import { and, asc, eq, inArray } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { outbox, ticketEvents, tickets } from '../../src/db/schema/index.js';
import { processItem } from '../../src/ingest/process-item.js';
import { storeItem } from '../../src/ingest/store-item.js';
import { DEFAULT_SLA_TARGETS } from '../../src/sla/policy.js';
import { saveSlaPolicies } from '../../src/sla/settings.js';
import { runSlaSweep, type SlaSweepOptions } from '../../src/sla/sweep.js';
import { claimTicket, correctTriage, recordReply } from '../../src/tickets/actions.js';
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
  it('keeps warning newer tickets however many older ones sit in warning (small batches)', async () => {
    const { db } = handle();
    const T1 = new Date('2026-04-06T08:00:00Z');
    const at = (m: number) => new Date(T1.getTime() + m * 60_000);
    // Flush what earlier tests left behind, so the sweeps below see only this test's tickets move.
    await runSlaSweep(db, { ...base, now: at(0) });
    const older = [];
    for (let i = 0; i < 5; i += 1) older.push(await openTicket(db, 'P2', at(0))); // 4 h: warning at 3 h
    // Five tickets to warn, two per page: one sweep warns them all.
    expect((await runSlaSweep(db, { ...base, now: at(180), batchSize: 2 })).warned).toBe(5);
    const newer = await openTicket(db, 'P2', at(50));
    // At 3 h 50 min the older five sit in warning (their breach is at 4 h); the newer one is due its warning.
    const result = await runSlaSweep(db, { ...base, now: at(230), batchSize: 2 });
    expect(result.warned).toBe(1);
    const rows = await db
      .select()
      .from(tickets)
      .where(inArray(tickets.id, [...older.map((t) => t.id), newer.id]));
    expect(rows.map((r) => r.firstResponseSla)).toEqual(rows.map(() => 'warning'));
    expect(await eventsOf(db, newer.id, 'sla_warning')).toHaveLength(1);
  });

  it('keeps escalating newer unclaimed tickets while older ones wait at tier 1 (small batches)', async () => {
    const { db } = handle();
    const T2 = new Date('2026-04-13T08:00:00Z');
    const at = (m: number) => new Date(T2.getTime() + m * 60_000);
    const chain = { ...base, escalateOnDutyMinutes: 30, escalateLeadsMinutes: 120, batchSize: 2 };
    await runSlaSweep(db, { ...chain, batchSize: 500, now: at(0) });
    const older = [];
    for (let i = 0; i < 4; i += 1) older.push(await openTicket(db, 'P4', at(0)));
    expect((await runSlaSweep(db, { ...chain, now: at(31) })).escalated).toBe(4);
    const newer = await openTicket(db, 'P4', at(60));
    expect((await runSlaSweep(db, { ...chain, now: at(91) })).escalated).toBe(1);
    const rows = await db
      .select()
      .from(tickets)
      .where(inArray(tickets.id, [...older.map((t) => t.id), newer.id]));
    expect(rows.map((r) => r.escalationTier)).toEqual(rows.map(() => 1));
  });

  it('gives new tickets and corrected priorities the stored policy, not the defaults', async () => {
    const { db } = handle();
    await saveSlaPolicies(
      db,
      {
        P1: { firstResponseMinutes: 20, resolutionMinutes: 120 },
        P2: { firstResponseMinutes: 30, resolutionMinutes: 300 },
      },
      'U0ADMIN',
    );
    try {
      const opened = new Date('2026-04-20T09:00:00Z');
      const ticket = await openTicket(db, 'P2', opened);
      expect(ticket.firstResponseDueAt).toEqual(new Date(opened.getTime() + 30 * 60_000));
      expect(ticket.resolutionDueAt).toEqual(new Date(opened.getTime() + 300 * 60_000));
      const { ticket: corrected } = await correctTriage(db, userActor('U0AGENT'), {
        ticketId: ticket.id,
        correction: { priority: 'P1' },
        now: new Date(opened.getTime() + 5 * 60_000),
      });
      expect(corrected.firstResponseDueAt).toEqual(new Date(opened.getTime() + 20 * 60_000));
      expect(corrected.resolutionDueAt).toEqual(new Date(opened.getTime() + 120 * 60_000));
    } finally {
      await saveSlaPolicies(db, { P1: DEFAULT_SLA_TARGETS.P1, P2: DEFAULT_SLA_TARGETS.P2 }, 'U0ADMIN');
    }
  });
});
