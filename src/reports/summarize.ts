import { and, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';
import { crisisAlerts, sources, tickets } from '../db/schema/index.js';
import { OPEN_STATUSES } from '../tickets/types.js';
import { withReportLanes } from './report-lanes.js';
import { cleanRollupDays, planPeriod, utcDay } from './rollups.js';
import {
  type Bucket,
  type Figures,
  filterCondition,
  type KeyCount,
  nullableNumber,
  num,
  type Period,
  rawTimeline,
  type TimelineInput,
  timelineBucket,
} from './summary-parts.js';
import { rollupFigures, timelineFromPlan } from './summary-rollups.js';

/** Narrows a report to one source (by id), one Slack channel, or one tag. */
export interface SummaryFilter {
  sourceId?: number;
  channel?: string;
  tag?: string;
}

export interface SummaryInput {
  from: Date;
  to: Date;
  filter?: SummaryFilter;
  /** Buckets of the volume chart and day boundaries are laid out in this zone (default UTC). */
  timeZone?: string;
  /** Backlog ages are measured at this moment (default `to`, or now if `to` is in the future). */
  now?: Date;
}

/** A count in this period and the previous one of the same length. */
export interface Change {
  key: string;
  label: string;
  count: number;
  previous: number;
  /** (count − previous) / previous; null when there was nothing before. */
  change: number | null;
}

export interface Durations {
  count: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

export interface SlaAttainment {
  met: number;
  breached: number;
  /** met / (met + breached), null when no clock has finished. */
  attainment: number | null;
}

export interface AgentRow {
  agent: string;
  claimed: number;
  replied: number;
  resolved: number;
  medianFirstResponseSeconds: number | null;
}

export interface TimelinePoint {
  at: Date;
  total: number;
  negative: number;
  neutral: number;
  positive: number;
}

/**
 * The lead report over tickets opened in [from, to) (a cohort: every figure is about the same
 * tickets), compared with the period before.
 */
export interface LeadSummary {
  from: Date;
  to: Date;
  previousFrom: Date;
  filter: SummaryFilter;
  volume: Change;
  byCategory: Change[];
  bySentiment: Change[];
  bySource: Change[];
  spam: number;
  firstResponse: Durations;
  resolution: Durations;
  /** Share of the period's tickets that are resolved or closed. */
  resolutionRate: number | null;
  resolved: number;
  sla: { firstResponse: SlaAttainment; resolution: SlaAttainment };
  /** Tickets open now that were opened before `to`, by age. */
  backlog: { total: number; buckets: { label: string; count: number }[] };
  topTopics: Change[];
  agents: AgentRow[];
  crisisAlerts: { id: number; kind: string; title: string; status: string; firstSeenAt: Date }[];
  /** Distinct customers of the period's tickets who received at least one reply (sent). */
  customersAnswered: number;
  customers: number;
  timeline: TimelinePoint[];
  bucket: 'hour' | 'day';
}

const CATEGORY_LABELS: Record<string, string> = {
  question: 'Question',
  complaint: 'Complaint',
  bug_report: 'Bug report',
  suggestion: 'Suggestion',
  praise: 'Praise',
  other: 'Other',
};

const BACKLOG_BUCKETS: { label: string; upToHours: number }[] = [
  { label: '< 1 h', upToHours: 1 },
  { label: '1–4 h', upToHours: 4 },
  { label: '4–24 h', upToHours: 24 },
  { label: '1–3 d', upToHours: 72 },
  { label: '3–7 d', upToHours: 168 },
  { label: '> 7 d', upToHours: Number.POSITIVE_INFINITY },
];

function seconds(value: unknown): number | null {
  return value === null || value === undefined ? null : Math.round(Number(value));
}

function change(key: string, label: string, count: number, previous: number): Change {
  return { key, label, count, previous, change: previous > 0 ? (count - previous) / previous : null };
}

/** Merges this period's and the previous period's counts by key, biggest first. */
function changes(current: KeyCount[], previous: KeyCount[], label: (key: string) => string = (k) => k): Change[] {
  const keys = new Set([...current, ...previous].map((r) => r.key ?? 'unknown'));
  const get = (rows: typeof current, key: string) => num(rows.find((r) => (r.key ?? 'unknown') === key)?.count);
  return [...keys]
    .map((key) => change(key, label(key), get(current, key), get(previous, key)))
    .sort((a, b) => b.count - a.count || b.previous - a.previous || a.key.localeCompare(b.key));
}

function periodOf(input: SummaryInput): Period {
  const { from, to } = input;
  const span = to.getTime() - from.getTime();
  return {
    from,
    to,
    previousFrom: new Date(from.getTime() - span),
    now: input.now ?? new Date(Math.min(Date.now(), to.getTime())),
    filter: input.filter ?? {},
    timeZone: input.timeZone ?? 'UTC',
  };
}

/**
 * Everything the lead report shows, over the tickets opened in the period; spam is counted apart and
 * left out of every other figure. Whole days come from the daily rollups (src/reports/rollups.ts)
 * while they are clean and the rest from the tickets, all in one snapshot (on PostgreSQL read over a
 * few connections at once), so every figure is the one the tickets alone give (summarizeRaw). A tag
 * filter reads the tickets only: the rollups are kept per source and channel, not per tag.
 */
export async function summarize(db: Database, input: SummaryInput): Promise<LeadSummary> {
  const period = periodOf(input);
  if (period.filter.tag !== undefined) return summarizeRaw(db, input);
  return withReportLanes(db, async (lanes) => {
    const clean = await lanes.run((tx) => cleanRollupDays(tx, utcDay(period.previousFrom), utcDay(period.to)));
    const current = planPeriod(period.from, period.to, clean);
    const previous = planPeriod(period.previousFrom, period.from, clean);
    if (current.days.length + previous.days.length === 0) return lanes.run((tx) => summarizeRaw(tx, input));
    const bucket = timelineBucket(period);
    const [figures, timeline, shared] = await Promise.all([
      rollupFigures(lanes, period, current, previous),
      lanes.run((tx) => timelineFromPlan(tx, { ...period, bucket }, current)),
      lanes.run((tx) => readShared(tx, period)),
    ]);
    return buildSummary(period, figures, timeline, shared);
  });
}

/**
 * The lead report from the tickets alone, percentile_cont for medians and p90: the reference the
 * rollup path must match, and the path for tag filters.
 */
export async function summarizeRaw(db: Database, input: SummaryInput): Promise<LeadSummary> {
  const period = periodOf(input);
  const figures = await rawFigures(db, period);
  const bucket = timelineBucket(period);
  const timeline = { bucket, points: await rawTimeline(db, { ...period, bucket }) };
  return buildSummary(period, figures, timeline, await readShared(db, period));
}

async function rawFigures(db: Database, period: Period): Promise<Figures> {
  const { from, to, previousFrom } = period;
  const scope = filterCondition(period.filter);
  const inRange = (a: Date, b: Date) => and(gte(tickets.createdAt, a), lt(tickets.createdAt, b), scope);
  const current = and(inRange(from, to), eq(tickets.spam, 0));
  const before = and(inRange(previousFrom, from), eq(tickets.spam, 0));

  const countBy = async (column: SQL | typeof tickets.category, where: SQL | undefined) =>
    (
      await db
        .select({ key: sql<string | null>`${column}::text`, count: sql<number>`count(*)::int` })
        .from(tickets)
        .where(where)
        .groupBy(sql`1`)
    ).map((r) => ({ key: r.key, count: num(r.count) }));

  const [totals] = await db
    .select({
      total: sql<number>`count(*) filter (where ${tickets.spam} = 0)::int`,
      spam: sql<number>`count(*) filter (where ${tickets.spam} <> 0)::int`,
      frCount: sql<number>`count(${tickets.firstResponseAt}) filter (where ${tickets.spam} = 0)::int`,
      frMedian: sql`percentile_cont(0.5) within group (order by extract(epoch from ${tickets.firstResponseAt} - ${tickets.createdAt})) filter (where ${tickets.spam} = 0 and ${tickets.firstResponseAt} is not null)`,
      frP90: sql`percentile_cont(0.9) within group (order by extract(epoch from ${tickets.firstResponseAt} - ${tickets.createdAt})) filter (where ${tickets.spam} = 0 and ${tickets.firstResponseAt} is not null)`,
      resolved: sql<number>`count(${tickets.resolvedAt}) filter (where ${tickets.spam} = 0)::int`,
      resMedian: sql`percentile_cont(0.5) within group (order by extract(epoch from ${tickets.resolvedAt} - ${tickets.createdAt})) filter (where ${tickets.spam} = 0 and ${tickets.resolvedAt} is not null)`,
      resP90: sql`percentile_cont(0.9) within group (order by extract(epoch from ${tickets.resolvedAt} - ${tickets.createdAt})) filter (where ${tickets.spam} = 0 and ${tickets.resolvedAt} is not null)`,
      frMet: sql<number>`count(*) filter (where ${tickets.spam} = 0 and ${tickets.firstResponseSla} = 'met')::int`,
      frBreached: sql<number>`count(*) filter (where ${tickets.spam} = 0 and ${tickets.firstResponseSla} = 'breached')::int`,
      resMet: sql<number>`count(*) filter (where ${tickets.spam} = 0 and ${tickets.resolutionSla} = 'met')::int`,
      resBreached: sql<number>`count(*) filter (where ${tickets.spam} = 0 and ${tickets.resolutionSla} = 'breached')::int`,
      customers: sql<number>`count(distinct ${tickets.authorId}) filter (where ${tickets.spam} = 0)::int`,
    })
    .from(tickets)
    .where(inRange(from, to));
  const [previousTotals] = await db.select({ total: sql<number>`count(*)::int` }).from(tickets).where(before);

  const topicRows = async (a: Date, b: Date) =>
    rowsOf<{ key: string; count: number }>(
      await db.execute(sql`
        select topic as key, count(*)::int as count
        from ${tickets}, unnest(${tickets.topics}) as topic
        where ${and(inRange(a, b), eq(tickets.spam, 0))} and topic is not null
        group by topic order by count(*) desc, topic limit 20`),
    ).map((r) => ({ key: r.key, count: num(r.count) }));

  // Per agent: actions taken on the period's tickets, and their first-response median as assignee.
  const agentRows = rowsOf<{
    agent: string;
    claimed: number;
    replied: number;
    resolved: number;
    median: number | null;
  }>(
    await db.execute(sql`
      with cohort as (
        select ${tickets.id} as id, ${tickets.assignee} as assignee, ${tickets.createdAt} as created_at,
               ${tickets.firstResponseAt} as first_response_at
        from ${tickets} where ${current}
      ),
      actions as (
        select e.actor as agent,
               count(*) filter (where e.type in ('claimed', 'assigned') and (e.type = 'claimed' or e.details->>'to' = e.actor))::int as claimed,
               count(*) filter (where e.type = 'replied')::int as replied,
               count(*) filter (where e.type = 'resolved')::int as resolved
        from ticket_events e join cohort c on c.id = e.ticket_id
        where e.actor not like 'system:%'
        group by e.actor
      ),
      responses as (
        select assignee as agent,
               percentile_cont(0.5) within group (order by extract(epoch from first_response_at - created_at)) as median
        from cohort where assignee is not null and first_response_at is not null
        group by assignee
      )
      select coalesce(a.agent, r.agent) as agent, coalesce(a.claimed, 0) as claimed, coalesce(a.replied, 0) as replied,
             coalesce(a.resolved, 0) as resolved, r.median
      from actions a full join responses r on r.agent = a.agent
      order by coalesce(a.resolved, 0) desc, coalesce(a.replied, 0) desc, 1`),
  );

  const [answered] = rowsOf<{ count: number }>(
    await db.execute(sql`
      select count(distinct t.author_id)::int as count
      from ${tickets} t
      where t.id in (select ${tickets.id} from ${tickets} where ${current})
        and exists (select 1 from replies r where r.ticket_id = t.id and r.status = 'done')`),
  );

  return {
    total: num(totals?.total),
    spam: num(totals?.spam),
    frCount: num(totals?.frCount),
    frMedian: nullableNumber(totals?.frMedian),
    frP90: nullableNumber(totals?.frP90),
    resolved: num(totals?.resolved),
    resMedian: nullableNumber(totals?.resMedian),
    resP90: nullableNumber(totals?.resP90),
    frMet: num(totals?.frMet),
    frBreached: num(totals?.frBreached),
    resMet: num(totals?.resMet),
    resBreached: num(totals?.resBreached),
    customers: num(totals?.customers),
    customersAnswered: num(answered?.count),
    previousTotal: num(previousTotals?.total),
    byCategory: await countBy(tickets.category, current),
    prevCategory: await countBy(tickets.category, before),
    bySentiment: await countBy(sql`${tickets.sentiment}`, current),
    prevSentiment: await countBy(sql`${tickets.sentiment}`, before),
    bySource: await countBy(sql`${tickets.sourceId}`, current),
    prevSource: await countBy(sql`${tickets.sourceId}`, before),
    topics: await topicRows(from, to),
    prevTopics: await topicRows(previousFrom, from),
    agents: agentRows.map((r) => ({
      agent: r.agent,
      claimed: num(r.claimed),
      replied: num(r.replied),
      resolved: num(r.resolved),
      median: nullableNumber(r.median),
    })),
  };
}

interface Shared {
  sourceNames: Map<string, string>;
  backlog: { bucket: number; count: number }[];
  alerts: (typeof crisisAlerts.$inferSelect)[];
}

/** What both paths read the same way: source names, the backlog (open now), the period's alerts. */
async function readShared(db: Database, period: Period): Promise<Shared> {
  const sourceNames = new Map(
    (await db.select({ id: sources.id, name: sources.name }).from(sources)).map((s) => [String(s.id), s.name]),
  );
  // Open tickets of all time, through the open-queue index (which holds them and only them).
  const backlog = rowsOf<{ bucket: number; count: number }>(
    await db.execute(sql`
      select width_bucket(extract(epoch from (${period.now.toISOString()}::timestamptz - ${tickets.createdAt})) / 3600,
               array[${sql.raw(
                 BACKLOG_BUCKETS.slice(0, -1)
                   .map((b) => b.upToHours)
                   .join(','),
               )}]::float8[]) as bucket,
             count(*)::int as count
      from ${tickets}
      where ${and(
        inArray(tickets.status, [...OPEN_STATUSES]),
        eq(tickets.spam, 0),
        lt(tickets.createdAt, period.to),
        filterCondition(period.filter),
      )}
      group by 1`),
  );
  const alerts = await db
    .select()
    .from(crisisAlerts)
    .where(and(gte(crisisAlerts.firstSeenAt, period.from), lt(crisisAlerts.firstSeenAt, period.to)))
    .orderBy(crisisAlerts.firstSeenAt);
  return { sourceNames, backlog, alerts };
}

/** The report from a period's figures and the shared reads. */
function buildSummary(
  period: Period,
  figures: Figures,
  timeline: { bucket: Bucket; points: TimelinePoint[] },
  shared: Shared,
): LeadSummary {
  const { from, to, previousFrom, filter } = period;
  const buckets = BACKLOG_BUCKETS.map((b, i) => ({
    label: b.label,
    count: num(shared.backlog.find((r) => num(r.bucket) === i)?.count),
  }));
  const { total, resolved } = figures;
  const attainment = (met: number, breached: number): SlaAttainment => ({
    met,
    breached,
    attainment: met + breached > 0 ? met / (met + breached) : null,
  });
  return {
    from,
    to,
    previousFrom,
    filter,
    volume: change('total', 'Tickets', total, figures.previousTotal),
    byCategory: changes(figures.byCategory, figures.prevCategory, (k) => CATEGORY_LABELS[k] ?? k),
    bySentiment: changes(figures.bySentiment, figures.prevSentiment, (k) => k[0]!.toUpperCase() + k.slice(1)),
    bySource: changes(figures.bySource, figures.prevSource, (k) => shared.sourceNames.get(k) ?? `source ${k}`),
    spam: figures.spam,
    firstResponse: {
      count: figures.frCount,
      medianSeconds: seconds(figures.frMedian),
      p90Seconds: seconds(figures.frP90),
    },
    resolution: { count: resolved, medianSeconds: seconds(figures.resMedian), p90Seconds: seconds(figures.resP90) },
    resolutionRate: total > 0 ? resolved / total : null,
    resolved,
    sla: {
      firstResponse: attainment(figures.frMet, figures.frBreached),
      resolution: attainment(figures.resMet, figures.resBreached),
    },
    backlog: { total: buckets.reduce((n, b) => n + b.count, 0), buckets },
    topTopics: changes(figures.topics, figures.prevTopics).slice(0, 10),
    agents: figures.agents
      .filter((r) => r.claimed + r.replied + r.resolved > 0 || r.median !== null)
      .map((r) => ({
        agent: r.agent,
        claimed: r.claimed,
        replied: r.replied,
        resolved: r.resolved,
        medianFirstResponseSeconds: seconds(r.median),
      })),
    crisisAlerts: shared.alerts.map((a) => ({
      id: a.id,
      kind: a.kind,
      title: String((a.details as { title?: unknown }).title ?? a.kind),
      status: a.status,
      firstSeenAt: a.firstSeenAt,
    })),
    customersAnswered: figures.customersAnswered,
    customers: figures.customers,
    timeline: timeline.points,
    bucket: timeline.bucket,
  };
}

/** Tickets per hour (periods up to two days) or per local day, by sentiment: the report's chart. */
export async function volumeTimeline(
  db: Database,
  input: TimelineInput,
): Promise<{ bucket: Bucket; points: TimelinePoint[] }> {
  const bucket = timelineBucket(input);
  if (bucket === 'hour' || input.filter?.tag !== undefined) {
    return { bucket, points: await rawTimeline(db, { ...input, bucket }) };
  }
  return withReportLanes(
    db,
    (lanes) =>
      lanes.run(async (tx) => {
        const clean = await cleanRollupDays(tx, utcDay(input.from), utcDay(input.to));
        return timelineFromPlan(tx, { ...input, bucket }, planPeriod(input.from, input.to, clean));
      }),
    { lanes: 1 },
  );
}
