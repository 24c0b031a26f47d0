import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { rowsOf } from '../../src/db/database.js';
import {
  authors,
  replies,
  reportDayCounts,
  reportDayDurations,
  reportRollupDays,
  sources,
  ticketEvents,
  tickets,
} from '../../src/db/schema/index.js';
import { parseSummaryArgs } from '../../src/reports/period.js';
import { cleanRollupDays, planPeriod, rebuildReportRollups } from '../../src/reports/rollups.js';
import { type SummaryInput, summarize, summarizeRaw, volumeTimeline } from '../../src/reports/summarize.js';
import {
  assignTicket,
  claimTicket,
  correctTriage,
  markSpam,
  reopenTicket,
  resolveTicket,
} from '../../src/tickets/actions.js';
import { recordEvent } from '../../src/tickets/timeline.js';
import { describeEachDatabase } from '../helpers/database.js';
import { userActor } from '../helpers/fixtures.js';

const at = (iso: string) => new Date(iso);
const DAY = 86_400_000;
/** The history runs 1–14 March 2026; "now" is noon on the 15th, so the rollups cover the 14 days. */
const NOW = at('2026-03-15T12:00:00Z');

describe('planPeriod', () => {
  const clean = new Set(['2026-03-02', '2026-03-03', '2026-03-05']);

  it('reads whole clean days from rollups and the rest, merged, from the tickets', () => {
    const plan = planPeriod(at('2026-03-01T18:30:00Z'), at('2026-03-06T09:15:00Z'), clean);
    expect(plan.days).toEqual(['2026-03-02', '2026-03-03', '2026-03-05']);
    expect(plan.raw.map((r) => [r.from.toISOString(), r.to.toISOString()])).toEqual([
      ['2026-03-01T18:30:00.000Z', '2026-03-02T00:00:00.000Z'],
      ['2026-03-04T00:00:00.000Z', '2026-03-05T00:00:00.000Z'],
      ['2026-03-06T00:00:00.000Z', '2026-03-06T09:15:00.000Z'],
    ]);
  });

  it('never takes a day the period only partly covers, even a clean one', () => {
    const plan = planPeriod(at('2026-03-02T00:00:01Z'), at('2026-03-03T23:59:59Z'), clean);
    expect(plan.days).toEqual([]);
    expect(plan.raw).toEqual([{ from: at('2026-03-02T00:00:01Z'), to: at('2026-03-03T23:59:59Z') }]);
  });
});

/** Deterministic pseudo-random numbers (mulberry32), so every run seeds the same history. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const CATEGORIES = ['question', 'complaint', 'bug_report', 'suggestion', 'praise', 'other'] as const;
const SENTIMENTS = ['negative', 'neutral', 'positive'] as const;
const TOPICS = ['checkout', 'delivery', 'login', 'refund', 'app'];
const AGENTS = ['U1', 'U2', 'U3', 'W4'];

/**
 * Fourteen days of tickets on two sources and two channels, with tags, topics, spam, SLA outcomes,
 * first responses and resolutions (fractional seconds, ties, a negative and a zero duration), the
 * timeline events the agent table counts, and replies sent, pending or failed.
 */
async function seedHistory(db: Database) {
  const next = random(20260301);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const [x] = await db.insert(sources).values({ name: 'x-rollup', kind: 'x' }).returning();
  const [web] = await db.insert(sources).values({ name: 'web-rollup', kind: 'webhook' }).returning();
  const people = await db
    .insert(authors)
    .values(Array.from({ length: 24 }, (_, i) => ({ sourceId: i % 2 ? web!.id : x!.id, externalId: `author-${i}` })))
    .returning();
  const ids: { id: number; createdAt: Date }[] = [];
  for (let day = 0; day < 14; day += 1) {
    const count = 10 + Math.floor(next() * 10);
    for (let n = 0; n < count; n += 1) {
      const createdAt = new Date(Date.UTC(2026, 2, 1 + day) + Math.floor(next() * DAY));
      const author = pick(people);
      const spam = next() < 0.06 ? 1 : 0;
      const assignee = next() < 0.8 ? pick(AGENTS) : null;
      // Durations: mostly a few minutes to a few hours; some repeat exactly, one is zero, one negative.
      const duration = (base: number) => {
        const r = next();
        if (r < 0.08) return 600_000;
        if (r < 0.1) return 0;
        if (r < 0.11) return -5_000;
        return Math.floor(base * -Math.log(1 - next()) * 1000) / 1000;
      };
      const firstResponseAt = assignee && next() < 0.85 ? new Date(createdAt.getTime() + duration(1800) * 1000) : null;
      const resolvedAt =
        firstResponseAt && next() < 0.7 ? new Date(createdAt.getTime() + Math.abs(duration(20_000)) * 1000) : null;
      const [ticket] = await db
        .insert(tickets)
        .values({
          sourceId: author.sourceId,
          authorId: author.id,
          category: pick(CATEGORIES),
          sentiment: pick(SENTIMENTS),
          topics: next() < 0.2 ? [] : next() < 0.5 ? [pick(TOPICS)] : [pick(TOPICS), pick(TOPICS)],
          tags: next() < 0.25 ? ['vip'] : next() < 0.1 ? ['vip', 'beta'] : [],
          spam,
          assignee,
          channel: next() < 0.6 ? 'C1' : 'C2',
          status: resolvedAt ? 'resolved' : assignee ? (next() < 0.5 ? 'claimed' : 'waiting') : 'new',
          firstResponseAt,
          resolvedAt,
          firstResponseSla: firstResponseAt ? (next() < 0.7 ? 'met' : 'breached') : next() < 0.2 ? 'warning' : 'ok',
          resolutionSla: resolvedAt ? (next() < 0.6 ? 'met' : 'breached') : 'ok',
          createdAt,
          lastCustomerMessageAt: createdAt,
        })
        .returning();
      ids.push({ id: ticket!.id, createdAt });
      const events: (typeof ticketEvents.$inferInsert)[] = [
        { ticketId: ticket!.id, actor: 'system:ingest', type: 'created', createdAt },
      ];
      if (assignee) {
        const byLead = next() < 0.3;
        events.push(
          byLead
            ? { ticketId: ticket!.id, actor: 'U9', type: 'assigned', details: { from: null, to: assignee } }
            : {
                ticketId: ticket!.id,
                actor: assignee,
                type: next() < 0.2 ? 'assigned' : 'claimed',
                details: { to: assignee },
              },
        );
      }
      if (firstResponseAt) events.push({ ticketId: ticket!.id, actor: assignee!, type: 'replied' });
      if (resolvedAt) events.push({ ticketId: ticket!.id, actor: next() < 0.9 ? assignee! : 'U9', type: 'resolved' });
      if (next() < 0.2) events.push({ ticketId: ticket!.id, actor: 'system:sla', type: 'sla_warning' });
      if (next() < 0.1) events.push({ ticketId: ticket!.id, actor: pick(AGENTS), type: 'tagged' });
      await db.insert(ticketEvents).values(events);
      if (firstResponseAt) {
        await db.insert(replies).values({
          ticketId: ticket!.id,
          sourceId: author.sourceId,
          sentBy: assignee!,
          text: 'hi',
          parts: ['hi'],
          idempotencyKey: `reply-${ticket!.id}`,
          status: next() < 0.8 ? 'done' : next() < 0.5 ? 'pending' : 'failed',
        });
      }
    }
  }
  return { x: x!, web: web!, ids };
}

/** Periods with partial first and last days, local days in zones off UTC by hours, half and quarter hours. */
function periods(): { name: string; input: SummaryInput }[] {
  const local = (args: string, timeZone: string) => {
    const { from, to } = parseSummaryArgs(args, NOW, timeZone);
    return { from, to, now: NOW, timeZone };
  };
  return [
    {
      name: '7d ending mid-morning',
      input: { from: at('2026-03-08T07:13:21.456Z'), to: at('2026-03-15T07:13:21.456Z'), now: NOW },
    },
    { name: 'the whole history and before', input: { from: at('2026-02-10T00:00:00Z'), to: NOW, now: NOW } },
    { name: 'New York days across the DST change', input: local('2026-03-04..2026-03-13', 'America/New_York') },
    { name: 'Kolkata days (UTC+5:30)', input: local('2026-03-02..2026-03-12', 'Asia/Kolkata') },
    { name: 'Kathmandu 7d (UTC+5:45)', input: local('7d', 'Asia/Kathmandu') },
    {
      name: 'one whole UTC day',
      input: { from: at('2026-03-10T00:00:00Z'), to: at('2026-03-11T00:00:00Z'), now: NOW },
    },
  ];
}

describeEachDatabase('lead summary from rollups against the tickets alone', (handle) => {
  let seeded: Awaited<ReturnType<typeof seedHistory>>;

  /** Every period and filter: the rollup path gives exactly the raw path's report. */
  async function expectSameAsRaw(db: Database) {
    const filters = [{}, { sourceId: seeded.web.id }, { channel: 'C2' }, { sourceId: seeded.x.id, channel: 'C1' }];
    for (const { name, input } of periods()) {
      for (const filter of name.startsWith('7d') || name.startsWith('the whole') ? filters : [{}, { channel: 'C1' }]) {
        const withFilter = { ...input, filter };
        const report = await summarize(db, withFilter);
        expect(report, `${name} ${JSON.stringify(filter)}`).toEqual(await summarizeRaw(db, withFilter));
      }
    }
    const tagged = { ...periods()[1]!.input, filter: { tag: 'vip' } };
    expect(await summarize(db, tagged)).toEqual(await summarizeRaw(db, tagged));
  }

  it('builds every complete day, then reads them and matches the tickets to the second', async () => {
    const { db } = handle();
    seeded = await seedHistory(db);
    const built = await rebuildReportRollups(db, { now: NOW, batchDays: 5 });
    expect(built).toEqual({ days: 14, more: false });
    expect((await cleanRollupDays(db, '2026-03-01', '2026-03-15')).size).toBe(14);
    // The history has what the figures must get right.
    const whole = await summarizeRaw(db, periods()[1]!.input);
    expect(whole.volume.count).toBeGreaterThan(150);
    expect(whole.agents.length).toBe(5);
    expect(whole.firstResponse.medianSeconds).not.toBeNull();
    expect(whole.customersAnswered).toBeGreaterThan(0);
    await expectSameAsRaw(db);
    // Nothing left to do until something changes.
    expect(await rebuildReportRollups(db, { now: NOW })).toEqual({ days: 0, more: false });
  });

  it('reads the rollups for clean days (a rollup changed behind its back shows in the report)', async () => {
    const { db } = handle();
    const input = periods()[1]!.input;
    const before = await summarize(db, input);
    await db.execute(sql`update ${reportDayCounts} set count = count + 100
      where day = '2026-03-05' and metric = 'tickets' and source_id = ${seeded.x.id} and channel = 'C1'`);
    expect((await summarize(db, input)).volume.count).toBe(before.volume.count + 100);
    // The medians check their histograms against the tickets they read, and refuse to guess.
    await db.execute(sql`update ${reportDayDurations} set count = count + 1`);
    await expect(summarize(db, input)).rejects.toThrow(/disagree with the tickets/);
    await db.execute(sql`delete from ${reportRollupDays}`);
    expect(await rebuildReportRollups(db, { now: NOW })).toEqual({ days: 14, more: false });
    expect(await summarize(db, input)).toEqual(before);
    // A rollup built by another version is not read; the job rebuilds it.
    await db.execute(sql`update ${reportDayCounts} set count = count + 100 where day = '2026-03-05'`);
    await db.execute(sql`update ${reportRollupDays} set version = 0 where day = '2026-03-05'`);
    expect(await summarize(db, input)).toEqual(before);
    expect(await rebuildReportRollups(db, { now: NOW })).toEqual({ days: 1, more: false });
    expect(await summarize(db, input)).toEqual(before);
  });

  it('stays exact when tickets change state on other days, before and after the job rebuilds them', async () => {
    const { db } = handle();
    const ticketOn = async (day: string, where: ReturnType<typeof sql>) => {
      const [row] = rowsOf<{ id: number }>(
        await db.execute(sql`select id from tickets where created_at >= ${`${day}T00:00:00Z`}::timestamptz
          and created_at < ${`${day}T00:00:00Z`}::timestamptz + interval '1 day' and ${where} order by id limit 1`),
      );
      expect(row, `a ticket on ${day}`).toBeDefined();
      return Number(row!.id);
    };
    const lead = userActor('U9', 'lead');
    const later = at('2026-03-15T10:00:00Z');
    // Reopen one resolved ticket, resolve an open one, claim and assign, mark spam, correct triage.
    await reopenTicket(db, lead, { ticketId: await ticketOn('2026-03-05', sql`status = 'resolved'`), now: later });
    await resolveTicket(db, lead, {
      ticketId: await ticketOn('2026-03-06', sql`status in ('claimed', 'waiting')`),
      now: later,
    });
    await claimTicket(db, userActor('U3'), {
      ticketId: await ticketOn('2026-03-09', sql`status = 'new' and spam = 0`),
      now: later,
    });
    await assignTicket(db, lead, {
      ticketId: await ticketOn('2026-03-10', sql`assignee <> 'W4' and status <> 'resolved'`),
      assignee: 'W4',
      now: later,
    });
    await markSpam(db, lead, {
      ticketId: await ticketOn('2026-03-12', sql`spam = 0 and first_response_at is not null and status <> 'resolved'`),
      now: later,
    });
    await correctTriage(db, lead, {
      ticketId: await ticketOn('2026-03-03', sql`category <> 'praise'`),
      correction: { category: 'praise', sentiment: 'positive' },
      now: later,
    });
    // What other parts of Earshot do: a reply delivered, an SLA sweep's verdict, a second reply's
    // event alone, a ticket deleted by retention, a ticket imported with its old date.
    const answered = await ticketOn(
      '2026-03-07',
      sql`exists (select 1 from replies r where r.ticket_id = tickets.id and r.status = 'pending')`,
    );
    await db.execute(sql`update replies set status = 'done' where ticket_id = ${answered}`);
    await db.execute(
      sql`update tickets set first_response_sla = 'breached' where id = ${await ticketOn('2026-03-13', sql`first_response_sla = 'warning'`)}`,
    );
    const [replied] = await db
      .select()
      .from(tickets)
      .where(sql`id = ${await ticketOn('2026-03-08', sql`assignee is not null`)}`);
    await recordEvent(db, replied!, { actor: userActor(replied!.assignee!), type: 'replied' });
    await db.execute(sql`delete from tickets where id = ${await ticketOn('2026-03-11', sql`true`)}`);
    const [someone] = await db.select().from(authors).limit(1);
    await db.insert(tickets).values({
      sourceId: someone!.sourceId,
      authorId: someone!.id,
      channel: 'C2',
      createdAt: at('2026-03-02T13:45:12.345Z'),
      lastCustomerMessageAt: at('2026-03-02T13:45:12.345Z'),
      firstResponseAt: at('2026-03-02T14:00:00Z'),
      assignee: 'U1',
      topics: ['imported'],
    });

    // Every changed day is marked, and read from the tickets until it is rebuilt.
    const changed = ['2026-03-02', '2026-03-03', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09'];
    changed.push('2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13');
    const clean = await cleanRollupDays(db, '2026-03-01', '2026-03-14');
    expect([...clean].sort(), JSON.stringify(changed)).toEqual(['2026-03-01', '2026-03-04', '2026-03-14']);
    await expectSameAsRaw(db);
    expect(await rebuildReportRollups(db, { now: NOW })).toEqual({ days: changed.length, more: false });
    expect((await cleanRollupDays(db, '2026-03-01', '2026-03-14')).size).toBe(14);
    await expectSameAsRaw(db);
  });

  it('draws the chart from the rollups as from the tickets', async () => {
    const { db } = handle();
    for (const { input } of periods()) {
      const raw = await summarizeRaw(db, input);
      expect(await volumeTimeline(db, input)).toEqual({ bucket: raw.bucket, points: raw.timeline });
    }
  });
});
