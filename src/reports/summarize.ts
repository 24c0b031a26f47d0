import { and, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';
import { crisisAlerts, sources, tickets } from '../db/schema/index.js';
import { OPEN_STATUSES } from '../tickets/types.js';

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
 * tickets, and every query stays on the created_at indexes), compared with the period before.
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

function filterCondition(filter: SummaryFilter): SQL | undefined {
  return and(
    filter.sourceId !== undefined ? eq(tickets.sourceId, filter.sourceId) : undefined,
    filter.channel !== undefined ? eq(tickets.channel, filter.channel) : undefined,
    filter.tag !== undefined ? sql`${tickets.tags} @> array[${filter.tag}]::text[]` : undefined,
  );
}

function num(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function seconds(value: unknown): number | null {
  return value === null || value === undefined ? null : Math.round(Number(value));
}

function change(key: string, label: string, count: number, previous: number): Change {
  return { key, label, count, previous, change: previous > 0 ? (count - previous) / previous : null };
}

/** Merges this period's and the previous period's counts by key, biggest first. */
function changes(
  current: { key: string | null; count: number }[],
  previous: { key: string | null; count: number }[],
  label: (key: string) => string = (k) => k,
): Change[] {
  const keys = new Set([...current, ...previous].map((r) => r.key ?? 'unknown'));
  const get = (rows: typeof current, key: string) => num(rows.find((r) => (r.key ?? 'unknown') === key)?.count);
  return [...keys]
    .map((key) => change(key, label(key), get(current, key), get(previous, key)))
    .sort((a, b) => b.count - a.count || b.previous - a.previous || a.key.localeCompare(b.key));
}

/**
 * Everything the lead report shows, computed in SQL (percentile_cont for medians and p90) over the
 * tickets opened in the period. Spam is counted apart and left out of every other figure.
 */
export async function summarize(db: Database, input: SummaryInput): Promise<LeadSummary> {
  const { from, to } = input;
  const filter = input.filter ?? {};
  const timeZone = input.timeZone ?? 'UTC';
  const span = to.getTime() - from.getTime();
  const previousFrom = new Date(from.getTime() - span);
  const now = input.now ?? new Date(Math.min(Date.now(), to.getTime()));
  const scope = filterCondition(filter);
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

  const [byCategory, prevCategory, bySentiment, prevSentiment, bySource, prevSource] = [
    await countBy(tickets.category, current),
    await countBy(tickets.category, before),
    await countBy(sql`${tickets.sentiment}`, current),
    await countBy(sql`${tickets.sentiment}`, before),
    await countBy(sql`${tickets.sourceId}`, current),
    await countBy(sql`${tickets.sourceId}`, before),
  ];
  const sourceNames = new Map(
    (await db.select({ id: sources.id, name: sources.name }).from(sources)).map((s) => [String(s.id), s.name]),
  );

  const topicRows = async (a: Date, b: Date) =>
    rowsOf<{ key: string; count: number }>(
      await db.execute(sql`
        select topic as key, count(*)::int as count
        from ${tickets}, unnest(${tickets.topics}) as topic
        where ${and(inRange(a, b), eq(tickets.spam, 0))}
        group by topic order by count(*) desc, topic limit 20`),
    ).map((r) => ({ key: r.key, count: num(r.count) }));
  const topTopics = changes(await topicRows(from, to), await topicRows(previousFrom, from)).slice(0, 10);

  const backlogRows = rowsOf<{ bucket: number; count: number }>(
    await db.execute(sql`
      select width_bucket(extract(epoch from (${now.toISOString()}::timestamptz - ${tickets.createdAt})) / 3600,
               array[${sql.raw(
                 BACKLOG_BUCKETS.slice(0, -1)
                   .map((b) => b.upToHours)
                   .join(','),
               )}]::float8[]) as bucket,
             count(*)::int as count
      from ${tickets}
      where ${and(inArray(tickets.status, [...OPEN_STATUSES]), eq(tickets.spam, 0), lt(tickets.createdAt, to), scope)}
      group by 1`),
  );
  const buckets = BACKLOG_BUCKETS.map((b, i) => ({
    label: b.label,
    count: num(backlogRows.find((r) => num(r.bucket) === i)?.count),
  }));

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

  const alerts = await db
    .select()
    .from(crisisAlerts)
    .where(and(gte(crisisAlerts.firstSeenAt, from), lt(crisisAlerts.firstSeenAt, to)))
    .orderBy(crisisAlerts.firstSeenAt);

  const { bucket, points: timeline } = await volumeTimeline(db, { from, to, filter, timeZone });

  const total = num(totals?.total);
  const resolved = num(totals?.resolved);
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
    volume: change('total', 'Tickets', total, num(previousTotals?.total)),
    byCategory: changes(byCategory, prevCategory, (k) => CATEGORY_LABELS[k] ?? k),
    bySentiment: changes(bySentiment, prevSentiment, (k) => k[0]!.toUpperCase() + k.slice(1)),
    bySource: changes(bySource, prevSource, (k) => sourceNames.get(k) ?? `source ${k}`),
    spam: num(totals?.spam),
    firstResponse: {
      count: num(totals?.frCount),
      medianSeconds: seconds(totals?.frMedian),
      p90Seconds: seconds(totals?.frP90),
    },
    resolution: { count: resolved, medianSeconds: seconds(totals?.resMedian), p90Seconds: seconds(totals?.resP90) },
    resolutionRate: total > 0 ? resolved / total : null,
    resolved,
    sla: {
      firstResponse: attainment(num(totals?.frMet), num(totals?.frBreached)),
      resolution: attainment(num(totals?.resMet), num(totals?.resBreached)),
    },
    backlog: { total: buckets.reduce((n, b) => n + b.count, 0), buckets },
    topTopics,
    agents: agentRows
      .filter((r) => num(r.claimed) + num(r.replied) + num(r.resolved) > 0 || r.median !== null)
      .map((r) => ({
        agent: r.agent,
        claimed: num(r.claimed),
        replied: num(r.replied),
        resolved: num(r.resolved),
        medianFirstResponseSeconds: seconds(r.median),
      })),
    crisisAlerts: alerts.map((a) => ({
      id: a.id,
      kind: a.kind,
      title: String((a.details as { title?: unknown }).title ?? a.kind),
      status: a.status,
      firstSeenAt: a.firstSeenAt,
    })),
    customersAnswered: num(answered?.count),
    customers: num(totals?.customers),
    timeline,
    bucket,
  };
}

/** Tickets per hour (periods up to two days) or per local day, by sentiment: the report's chart. */
export async function volumeTimeline(
  db: Database,
  input: { from: Date; to: Date; filter?: SummaryFilter; timeZone?: string },
): Promise<{ bucket: 'hour' | 'day'; points: TimelinePoint[] }> {
  const bucket: 'hour' | 'day' = input.to.getTime() - input.from.getTime() <= 2 * 86_400_000 ? 'hour' : 'day';
  const where = and(
    gte(tickets.createdAt, input.from),
    lt(tickets.createdAt, input.to),
    eq(tickets.spam, 0),
    filterCondition(input.filter ?? {}),
  );
  const rows = rowsOf<{ at: string | Date; total: number; negative: number; neutral: number; positive: number }>(
    await db.execute(sql`
      select date_trunc(${bucket}, ${tickets.createdAt}, ${input.timeZone ?? 'UTC'}) as at, count(*)::int as total,
             count(*) filter (where ${tickets.sentiment} = 'negative')::int as negative,
             count(*) filter (where ${tickets.sentiment} = 'neutral')::int as neutral,
             count(*) filter (where ${tickets.sentiment} = 'positive')::int as positive
      from ${tickets} where ${where}
      group by 1 order by 1`),
  );
  return {
    bucket,
    points: rows.map((r) => ({
      at: new Date(r.at),
      total: num(r.total),
      negative: num(r.negative),
      neutral: num(r.neutral),
      positive: num(r.positive),
    })),
  };
}
