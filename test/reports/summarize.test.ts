import { expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { authors, crisisAlerts, replies, sources, ticketEvents, tickets } from '../../src/db/schema/index.js';
import { cleanRollupDays, rebuildReportRollups } from '../../src/reports/rollups.js';
import { type LeadSummary, summarize } from '../../src/reports/summarize.js';
import { describeEachDatabase } from '../helpers/database.js';

const at = (iso: string) => new Date(iso);

/**
 * Hand-computed fixture: five tickets on 2026-03-02 (plus one spam), two the day before, one after.
 * Every expected number below is worked out by hand in the comments.
 */
async function seed(db: Database) {
  const [x] = await db.insert(sources).values({ name: 'x-report', kind: 'x' }).returning();
  const [web] = await db.insert(sources).values({ name: 'web-report', kind: 'webhook' }).returning();
  const author = async (sourceId: number, externalId: string) =>
    (await db.insert(authors).values({ sourceId, externalId }).returning())[0]!.id;
  const a1 = await author(x!.id, 'a1');
  const a2 = await author(web!.id, 'a2');
  const a3 = await author(x!.id, 'a3');
  const a4 = await author(web!.id, 'a4');
  type T = typeof tickets.$inferInsert;
  const ticket = async (values: Omit<T, 'lastCustomerMessageAt' | 'channel'> & { channel?: string }) =>
    (
      await db
        .insert(tickets)
        .values({ channel: 'C1', lastCustomerMessageAt: values.createdAt!, ...values })
        .returning()
    )[0]!;
  const t1 = await ticket({
    sourceId: x!.id,
    authorId: a1,
    category: 'complaint',
    sentiment: 'negative',
    createdAt: at('2026-03-02T09:00:00Z'),
    firstResponseAt: at('2026-03-02T09:10:00Z'), // 600 s
    resolvedAt: at('2026-03-02T10:00:00Z'), // 3600 s
    status: 'resolved',
    assignee: 'U1',
    firstResponseSla: 'met',
    resolutionSla: 'met',
    topics: ['checkout', 'payment'],
    tags: ['vip'],
  });
  const t2 = await ticket({
    sourceId: x!.id,
    authorId: a3,
    category: 'question',
    sentiment: 'neutral',
    createdAt: at('2026-03-02T10:00:00Z'),
    firstResponseAt: at('2026-03-02T10:30:00Z'), // 1800 s
    status: 'waiting',
    assignee: 'U2',
    firstResponseSla: 'met',
    topics: ['checkout'],
  });
  const t3 = await ticket({
    sourceId: web!.id,
    authorId: a2,
    category: 'complaint',
    sentiment: 'negative',
    createdAt: at('2026-03-02T11:00:00Z'),
    firstResponseAt: at('2026-03-02T13:00:00Z'), // 7200 s
    resolvedAt: at('2026-03-02T15:00:00Z'), // 14400 s
    status: 'resolved',
    assignee: 'U1',
    firstResponseSla: 'breached',
    resolutionSla: 'met',
    topics: ['delivery'],
    channel: 'C2',
  });
  await ticket({
    sourceId: web!.id,
    authorId: a4,
    category: 'praise',
    sentiment: 'positive',
    createdAt: at('2026-03-02T12:00:00Z'),
    status: 'new',
  });
  const t5 = await ticket({
    sourceId: x!.id,
    authorId: a1,
    category: 'bug_report',
    sentiment: 'negative',
    createdAt: at('2026-03-02T20:30:00Z'),
    firstResponseAt: at('2026-03-02T20:35:00Z'), // 300 s
    status: 'claimed',
    assignee: 'U2',
    firstResponseSla: 'met',
    topics: ['app'],
  });
  await ticket({ sourceId: x!.id, authorId: a3, createdAt: at('2026-03-02T13:00:00Z'), spam: 1, status: 'closed' });
  // The day before: one complaint on X about checkout, one question on the web; both resolved.
  await ticket({
    sourceId: x!.id,
    authorId: a1,
    category: 'complaint',
    sentiment: 'negative',
    createdAt: at('2026-03-01T10:00:00Z'),
    status: 'resolved',
    resolvedAt: at('2026-03-01T11:00:00Z'),
    topics: ['checkout'],
  });
  await ticket({
    sourceId: web!.id,
    authorId: a2,
    category: 'question',
    sentiment: 'neutral',
    createdAt: at('2026-03-01T11:00:00Z'),
    status: 'resolved',
    resolvedAt: at('2026-03-01T12:00:00Z'),
  });
  // After the period: open, but not in its backlog.
  await ticket({ sourceId: x!.id, authorId: a4, createdAt: at('2026-03-03T01:00:00Z') });

  const event = (ticketId: number, actor: string, type: string, minute: number, details = {}) => ({
    ticketId,
    actor,
    type,
    details,
    createdAt: new Date(at('2026-03-02T00:00:00Z').getTime() + minute * 60_000),
  });
  await db
    .insert(ticketEvents)
    .values([
      event(t1.id, 'U1', 'claimed', 545),
      event(t1.id, 'U1', 'replied', 550),
      event(t1.id, 'U1', 'resolved', 600),
      event(t2.id, 'U2', 'claimed', 610),
      event(t2.id, 'U2', 'replied', 630),
      event(t3.id, 'U1', 'claimed', 700),
      event(t3.id, 'U1', 'replied', 780),
      event(t3.id, 'U1', 'resolved', 900),
      event(t5.id, 'U9', 'assigned', 1231, { from: null, to: 'U2' }),
      event(t5.id, 'U2', 'replied', 1235),
      event(t5.id, 'system:sla', 'sla_warning', 1236),
    ]);
  const reply = (ticketId: number, sourceId: number, status: 'done' | 'pending', key: string) => ({
    ticketId,
    sourceId,
    sentBy: 'U1',
    text: 'hi',
    parts: ['hi'],
    idempotencyKey: key,
    status,
  });
  await db
    .insert(replies)
    .values([
      reply(t1.id, x!.id, 'done', 'r1'),
      reply(t3.id, web!.id, 'done', 'r3'),
      reply(t2.id, x!.id, 'pending', 'r2'),
    ]);
  await db.insert(crisisAlerts).values([
    {
      kind: 'volume',
      groupKey: 'source:1',
      details: { title: 'Volume spike on x' },
      firstSeenAt: at('2026-03-02T14:00:00Z'),
    },
    { kind: 'volume', groupKey: 'source:1', details: { title: 'Earlier' }, firstSeenAt: at('2026-03-01T14:00:00Z') },
  ]);
  return { x: x!, web: web! };
}

/** The numbers of the fixture (seed above) for 2 March, worked out by hand. */
function expectHandComputed(s: LeadSummary) {
  // 5 tickets against 2 the day before: +150%.
  expect(s.volume).toMatchObject({ count: 5, previous: 2, change: 1.5 });
  expect(s.spam).toBe(1);
  expect(s.byCategory.map((c) => [c.key, c.count, c.previous])).toEqual([
    ['complaint', 2, 1],
    ['question', 1, 1],
    ['bug_report', 1, 0],
    ['praise', 1, 0],
  ]);
  expect(s.bySentiment.map((c) => [c.key, c.count, c.previous])).toEqual([
    ['negative', 3, 1],
    ['neutral', 1, 1],
    ['positive', 1, 0],
  ]);
  expect(s.bySource.map((c) => [c.label, c.count, c.previous])).toEqual([
    ['x-report', 3, 1],
    ['web-report', 2, 1],
  ]);
  // First responses 300, 600, 1800, 7200 s: median (600+1800)/2 = 1200; p90 = 1800 + 0.7·5400 = 5580.
  expect(s.firstResponse).toEqual({ count: 4, medianSeconds: 1200, p90Seconds: 5580 });
  // Resolutions 3600, 14400 s: median 9000; p90 = 3600 + 0.9·10800 = 13320.
  expect(s.resolution).toEqual({ count: 2, medianSeconds: 9000, p90Seconds: 13320 });
  expect(s.resolutionRate).toBe(0.4);
  // First response met 3, breached 1; resolution met 2.
  expect(s.sla.firstResponse).toEqual({ met: 3, breached: 1, attainment: 0.75 });
  expect(s.sla.resolution).toEqual({ met: 2, breached: 0, attainment: 1 });
  // Open at midnight: t2 (14 h), t4 (12 h), t5 (3.5 h).
  expect(s.backlog.total).toBe(3);
  expect(s.backlog.buckets.filter((b) => b.count > 0)).toEqual([
    { label: '1–4 h', count: 1 },
    { label: '4–24 h', count: 2 },
  ]);
  expect(s.topTopics.map((t) => [t.key, t.count, t.previous])).toEqual([
    ['checkout', 2, 1],
    ['app', 1, 0],
    ['delivery', 1, 0],
    ['payment', 1, 0],
  ]);
  // U1 holds t1 (600 s) and t3 (7200 s): median 3900; U2 holds t2 (1800 s) and t5 (300 s): 1050.
  expect(s.agents).toEqual([
    { agent: 'U1', claimed: 2, replied: 2, resolved: 2, medianFirstResponseSeconds: 3900 },
    { agent: 'U2', claimed: 1, replied: 2, resolved: 0, medianFirstResponseSeconds: 1050 },
  ]);
  expect(s.crisisAlerts.map((a) => a.title)).toEqual(['Volume spike on x']);
  // Sent replies reached the authors of t1 (a1) and t3 (a2); t2's reply is still pending.
  expect(s.customersAnswered).toBe(2);
  expect(s.customers).toBe(4);
  expect(s.bucket).toBe('hour');
  expect(s.timeline.map((p) => [p.at.toISOString().slice(11, 13), p.total, p.negative, p.positive])).toEqual([
    ['09', 1, 1, 0],
    ['10', 1, 0, 0],
    ['11', 1, 1, 0],
    ['12', 1, 0, 1],
    ['20', 1, 1, 0],
  ]);
}

describeEachDatabase('lead summary against hand-computed numbers', (handle) => {
  let ids: Awaited<ReturnType<typeof seed>>;
  const period = { from: at('2026-03-02T00:00:00Z'), to: at('2026-03-03T00:00:00Z'), now: at('2026-03-03T00:00:00Z') };

  it('computes volume, durations, rates, SLA, backlog, topics, agents, alerts and answers', async () => {
    const { db } = handle();
    ids = await seed(db);
    expectHandComputed(await summarize(db, period));
  });

  it('narrows to a source, a channel or a tag', async () => {
    const { db } = handle();
    expect((await summarize(db, { ...period, filter: { sourceId: ids.web.id } })).volume.count).toBe(2);
    expect((await summarize(db, { ...period, filter: { channel: 'C2' } })).volume.count).toBe(1);
    const vip = await summarize(db, { ...period, filter: { tag: 'vip' } });
    expect(vip.volume.count).toBe(1);
    expect(vip.agents.map((a) => a.agent)).toEqual(['U1']);
  });

  it('buckets by day in the requested time zone for longer periods', async () => {
    const { db } = handle();
    const week = await summarize(db, {
      from: at('2026-02-24T00:00:00Z'),
      to: at('2026-03-03T00:00:00Z'),
      timeZone: 'America/New_York',
    });
    expect(week.bucket).toBe('day');
    // In New York, 20:30 UTC on 2 March is still 2 March; 10:00 UTC on 1 March is 1 March.
    expect(week.timeline.map((p) => p.total)).toEqual([2, 5]);
    expect(week.volume.count).toBe(7);
  });

  it('gives the same hand-computed numbers from the daily rollups', async () => {
    const { db } = handle();
    expect(await rebuildReportRollups(db, { now: at('2026-03-04T08:00:00Z') })).toEqual({ days: 3, more: false });
    expect([...(await cleanRollupDays(db, '2026-03-01', '2026-03-03'))].sort()).toEqual([
      '2026-03-01',
      '2026-03-02',
      '2026-03-03',
    ]);
    expectHandComputed(await summarize(db, period));
    expect((await summarize(db, { ...period, filter: { sourceId: ids.web.id } })).volume.count).toBe(2);
    expect((await summarize(db, { ...period, filter: { channel: 'C2' } })).volume.count).toBe(1);
    const week = await summarize(db, {
      from: at('2026-02-24T00:00:00Z'),
      to: at('2026-03-03T00:00:00Z'),
      timeZone: 'America/New_York',
    });
    expect(week.timeline.map((p) => p.total)).toEqual([2, 5]);
    expect(week.volume.count).toBe(7);
  });
});
