import { and, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { type Database, intArray, rowsOf, sqlArray, textArray } from '../db/database.js';
import {
  reportDayAgentDurations,
  reportDayAgents,
  reportDayAuthors,
  reportDayCounts,
  reportDayDurations,
  reportHourVolume,
  tickets,
} from '../db/schema/index.js';
import type { ReportLanes } from './report-lanes.js';
import {
  AGENT_BUCKET_SHIFT,
  agentDurationRows,
  agentRows,
  authorRows,
  countRows,
  createdIn,
  dateList,
  durationRows,
  firstResponseBucket,
  type PeriodPlan,
  type RollupScope,
  resolutionBucket,
  rollupScope,
  ticketScope,
  utcDay,
} from './rollups.js';
import type { SummaryFilter, TimelinePoint } from './summarize.js';
import {
  type AgentFigures,
  type Bucket,
  type Figures,
  type KeyCount,
  nullableNumber,
  num,
  type Period,
  rawTimeline,
  type TimelineInput,
  timelinePoints,
} from './summary-parts.js';

/*
 * The lead report from the daily rollups of clean whole days plus the tickets of the rest of the
 * period (src/reports/rollups.ts explains the split). Every figure here equals what summarizeRaw
 * computes from the tickets alone; test/reports/rollups.test.ts holds the two side by side.
 */

/** The report's narrowing as the rollups keep it (tags are not: a tag filter reads the tickets). */
function scopeOf(filter: SummaryFilter): RollupScope {
  return {
    ...(filter.sourceId !== undefined ? { sourceId: filter.sourceId } : {}),
    ...(filter.channel !== undefined ? { channel: filter.channel } : {}),
  };
}

/** The previous period is only compared by volume, category, sentiment, source and topic. */
const PREVIOUS_METRICS = ['tickets', 'category', 'sentiment', 'topic'];

interface CountRow {
  metric: string;
  key: string;
  source_id: number;
  count: number;
}

/** A period's counts: its clean days' rollups plus its raw ranges, ordered by metric, key and source. */
async function readCounts(db: Database, plan: PeriodPlan, scope: RollupScope, metrics?: string[]) {
  const only = metrics ? sql`metric = any(${textArray(metrics)})` : sql`true`;
  return rowsOf<CountRow>(
    await db.execute(sql`
      select metric, key, source_id, sum(count)::int as count from (
        select metric, key, source_id, count from ${reportDayCounts}
        where ${inDays(reportDayCounts.day, plan)} and ${rollupScope(reportDayCounts, scope)} and ${only}
        union all
        select metric, key, source_id, count from (${countRows(rawRows(plan, scope))}) as raw
        where ${only}
      ) as counts
      group by metric, key, source_id
      order by metric, key, source_id`),
  ).map((r) => ({ ...r, source_id: num(r.source_id), count: num(r.count) }));
}

/** The plan's clean days, as a range the primary key serves plus the list itself. */
function inDays(column: AnyPgColumn, plan: PeriodPlan): SQL {
  if (plan.days.length === 0) return sql`false`;
  return sql`${column} between ${plan.days[0]}::date and ${plan.days.at(-1)}::date and ${column} = any(${dateList(plan.days)})`;
}

/** The tickets of the plan's raw ranges in the scope. */
function rawRows(plan: PeriodPlan, scope: RollupScope): SQL {
  return and(createdIn(plan.raw), ticketScope(scope))!;
}

/** Sums by key, keeping the rows' order (the database's order of keys). */
function byKey(rows: CountRow[], metric: string): KeyCount[] {
  const out: KeyCount[] = [];
  for (const row of rows) {
    if (row.metric !== metric) continue;
    const last = out.at(-1);
    if (last && last.key === row.key) last.count += row.count;
    else out.push({ key: row.key, count: row.count });
  }
  return out;
}

function scalar(rows: CountRow[], metric: string, key = ''): number {
  return rows.filter((r) => r.metric === metric && r.key === key).reduce((n, r) => n + r.count, 0);
}

function bySourceId(rows: CountRow[]): KeyCount[] {
  const counts = new Map<number, number>();
  for (const row of rows) {
    if (row.metric === 'tickets') counts.set(row.source_id, (counts.get(row.source_id) ?? 0) + row.count);
  }
  return [...counts].map(([id, count]) => ({ key: String(id), count }));
}

/** `order by count desc, key limit 20` over rows already in key order (a stable sort keeps ties so). */
function top20(rows: KeyCount[]): KeyCount[] {
  return [...rows].sort((a, b) => b.count - a.count).slice(0, 20);
}

/** Every figure of the report but the shared ones (backlog, alerts, chart). */
export async function rollupFigures(
  lanes: ReportLanes,
  period: Period,
  current: PeriodPlan,
  previous: PeriodPlan,
): Promise<Figures> {
  const scope = scopeOf(period.filter);
  const [counts, before, durations, actions, authors] = await Promise.all([
    lanes.run((db) => readCounts(db, current, scope)),
    lanes.run((db) => readCounts(db, previous, scope, PREVIOUS_METRICS)),
    readDurations(lanes, period, current, scope),
    lanes.run(async (db) =>
      rowsOf<{ agent: string; claimed: number; replied: number; resolved: number }>(
        await db.execute(sql`
          select agent, sum(claimed)::int as claimed, sum(replied)::int as replied, sum(resolved)::int as resolved
          from (
            select agent, claimed, replied, resolved from ${reportDayAgents}
            where ${inDays(reportDayAgents.day, current)} and ${rollupScope(reportDayAgents, scope)}
            union all
            select agent, claimed, replied, resolved from (${agentRows(rawRows(current, scope))}) as raw
          ) as actions
          group by agent`),
      ),
    ),
    // Distinct customers, and distinct customers answered: a union of the days' id arrays each (two
    // reads, so two connections share the sorting).
    Promise.all(
      (['authors', 'answered'] as const).map((column) =>
        lanes.run(async (db) => {
          const [row] = rowsOf<{ count: number }>(
            await db.execute(sql`
              with days as (
                select ${sql.identifier(column)} as ids from ${reportDayAuthors}
                where ${inDays(reportDayAuthors.day, current)} and ${rollupScope(reportDayAuthors, scope)}
                union all
                select ${sql.identifier(column)} from (${authorRows(rawRows(current, scope))}) as raw
              )
              select count(distinct a)::int as count from days, unnest(days.ids) as a`),
          );
          return num(row?.count);
        }),
      ),
    ).then(([customers, answered]) => ({ customers: customers!, answered: answered! })),
  ]);

  const agents = new Map<string, AgentFigures>();
  const agentOf = (agent: string) => {
    let row = agents.get(agent);
    if (!row) {
      row = { agent, claimed: 0, replied: 0, resolved: 0, median: null };
      agents.set(agent, row);
    }
    return row;
  };
  for (const r of actions) {
    Object.assign(agentOf(r.agent), { claimed: num(r.claimed), replied: num(r.replied), resolved: num(r.resolved) });
  }
  for (const [agent, median] of durations.agentMedians) agentOf(agent).median = median;
  // Ties are listed by agent id in the database's text order, as the raw path's ORDER BY lists them.
  const names = await lanes.run(async (db) =>
    rowsOf<{ agent: string }>(
      await db.execute(sql`select agent from unnest(${textArray([...agents.keys()])}) as agent order by agent`),
    ).map((r) => r.agent),
  );
  const ordered = names
    .map((name) => agents.get(name)!)
    .sort((a, b) => b.resolved - a.resolved || b.replied - a.replied);

  return {
    total: scalar(counts, 'tickets'),
    spam: scalar(counts, 'spam'),
    frCount: scalar(counts, 'first_responses'),
    frMedian: durations.frMedian,
    frP90: durations.frP90,
    resolved: scalar(counts, 'resolved'),
    resMedian: durations.resMedian,
    resP90: durations.resP90,
    frMet: scalar(counts, 'first_response_sla', 'met'),
    frBreached: scalar(counts, 'first_response_sla', 'breached'),
    resMet: scalar(counts, 'resolution_sla', 'met'),
    resBreached: scalar(counts, 'resolution_sla', 'breached'),
    customers: authors.customers,
    customersAnswered: authors.answered,
    previousTotal: scalar(before, 'tickets'),
    byCategory: byKey(counts, 'category'),
    prevCategory: byKey(before, 'category'),
    bySentiment: byKey(counts, 'sentiment'),
    prevSentiment: byKey(before, 'sentiment'),
    bySource: bySourceId(counts),
    prevSource: bySourceId(before),
    topics: top20(byKey(counts, 'topic')),
    prevTopics: top20(byKey(before, 'topic')),
    agents: ordered,
  };
}

/** Where rank `rank` (0-based) of a histogram falls: the bucket, the rank within it, its size. */
function locate(histogram: [number, number][], rank: number): { bucket: number; offset: number; size: number } {
  let below = 0;
  for (const [bucket, count] of histogram) {
    if (rank < below + count) return { bucket, offset: rank - below, size: count };
    below += count;
  }
  throw new Error(`rank ${rank} is beyond a histogram of ${below} values`);
}

/** The rows percentile_cont(p) reads among n sorted values, and how far it goes from one to the next. */
function percentileRows(n: number, p: number): { first: number; second: number; proportion: number } {
  const position = p * (n - 1);
  return { first: Math.floor(position), second: Math.ceil(position), proportion: position - Math.floor(position) };
}

/** PostgreSQL's float8 interpolation in percentile_cont (float8_lerp), operation for operation. */
function lerp(low: number, high: number, proportion: number): number {
  return low + proportion * (high - low);
}

function sortedHistogram(counts: Map<number, number>): [number, number][] {
  return [...counts].sort((a, b) => a[0] - b[0]);
}

interface ValueGroup {
  histogram: [number, number][];
  /** The fractions wanted (0.5 for a median, 0.9 for p90). */
  p: number[];
  /** The histogram's buckets are the fine buckets shifted right by this much. */
  shift: number;
}

interface Wanted {
  /** Key of the value group: OVERALL or `agent:<id>`. */
  group: string;
  bucket: number;
  offset: number;
  size: number;
}

/** The group of all values; an agent's group is `agent:<id>`. */
const OVERALL = 'overall';

type DurationMetric = 'first_response' | 'resolution';

/**
 * Exact percentile_cont figures from histograms: the histograms (rollups plus raw ranges) give each
 * wanted rank's bucket, one index-only read ranks those buckets' values over the whole period, and
 * the two values percentile_cont reads are interpolated as PostgreSQL does. Agents' histograms are
 * AGENT_BUCKET_SHIFT coarser and kept for the whole team: a narrowed report reads its agents'
 * medians from its (smaller) cohort.
 */
async function readDurations(lanes: ReportLanes, period: Period, plan: PeriodPlan, scope: RollupScope) {
  const whole = scope.sourceId === undefined && scope.channel === undefined;
  const inPeriod = and(
    gte(tickets.createdAt, period.from),
    lt(tickets.createdAt, period.to),
    eq(tickets.spam, 0),
    ticketScope(scope),
  )!;
  const [histogramRows, agentRowsRead, rawAgentMedians] = await Promise.all([
    lanes.run(async (db) =>
      rowsOf<{ metric: string; bucket: number; count: number }>(
        await db.execute(sql`
          select metric, bucket, sum(count)::int as count from (
            select metric, bucket, count from ${reportDayDurations}
            where ${inDays(reportDayDurations.day, plan)} and ${rollupScope(reportDayDurations, scope)}
            union all
            select metric, bucket, count from (${durationRows(rawRows(plan, scope))}) as raw
          ) as durations
          group by metric, bucket`),
      ),
    ),
    whole
      ? lanes.run(async (db) =>
          rowsOf<{ agent: string; bucket: number; count: number }>(
            await db.execute(sql`
              select agent, bucket, sum(count)::int as count from (
                select agent, bucket, count from ${reportDayAgentDurations}
                where ${inDays(reportDayAgentDurations.day, plan)}
                union all
                select agent, bucket, count from (${agentDurationRows(rawRows(plan, scope))}) as raw
              ) as durations
              group by agent, bucket`),
          ),
        )
      : [],
    whole
      ? []
      : lanes.run(async (db) =>
          rowsOf<{ agent: string; median: number | null }>(
            await db.execute(sql`
              select ${tickets.assignee} as agent,
                     percentile_cont(0.5) within group (order by extract(epoch from ${tickets.firstResponseAt} - ${tickets.createdAt})) as median
              from ${tickets}
              where ${inPeriod} and ${tickets.assignee} is not null and ${tickets.firstResponseAt} is not null
              group by 1`),
          ),
        ),
  ]);
  const histograms = { first_response: new Map<number, number>(), resolution: new Map<number, number>() };
  for (const r of histogramRows) histograms[r.metric as DurationMetric]?.set(num(r.bucket), num(r.count));
  const agentHistograms = new Map<string, Map<number, number>>();
  for (const r of agentRowsRead) {
    const histogram = agentHistograms.get(r.agent) ?? new Map<number, number>();
    histogram.set(num(r.bucket), num(r.count));
    agentHistograms.set(r.agent, histogram);
  }

  const overall = (histogram: Map<number, number>): ValueGroup => ({
    histogram: sortedHistogram(histogram),
    p: [0.5, 0.9],
    shift: 0,
  });
  const firstGroups = new Map<string, ValueGroup>([[OVERALL, overall(histograms.first_response)]]);
  for (const [agent, histogram] of agentHistograms) {
    firstGroups.set(`agent:${agent}`, { histogram: sortedHistogram(histogram), p: [0.5], shift: AGENT_BUCKET_SHIFT });
  }
  const [first, resolution] = await Promise.all([
    lanes.run((db) => percentiles(db, inPeriod, 'first_response', firstGroups)),
    lanes.run((db) => percentiles(db, inPeriod, 'resolution', new Map([[OVERALL, overall(histograms.resolution)]]))),
  ]);

  const agentMedians = new Map<string, number | null>();
  for (const agent of agentHistograms.keys()) agentMedians.set(agent, first.get(`agent:${agent}`)?.[0] ?? null);
  for (const r of rawAgentMedians) agentMedians.set(r.agent, nullableNumber(r.median));
  return {
    frMedian: first.get(OVERALL)?.[0] ?? null,
    frP90: first.get(OVERALL)?.[1] ?? null,
    resMedian: resolution.get(OVERALL)?.[0] ?? null,
    resP90: resolution.get(OVERALL)?.[1] ?? null,
    agentMedians,
  };
}

/**
 * percentile_cont(p) of each group: the two ranks it reads are located in the group's histogram,
 * the values of those buckets are ranked in SQL and the two values interpolated as PostgreSQL does.
 */
async function percentiles(
  db: Database,
  inPeriod: SQL,
  metric: DurationMetric,
  groups: Map<string, ValueGroup>,
): Promise<Map<string, number[]>> {
  const wanted: Wanted[] = [];
  const plans = new Map<string, { first: Wanted; second: Wanted; proportion: number }[]>();
  for (const [group, { histogram, p }] of groups) {
    const n = histogram.reduce((sum, [, count]) => sum + count, 0);
    if (n === 0) continue;
    const at = (rank: number): Wanted => {
      const w = { group, ...locate(histogram, rank) };
      wanted.push(w);
      return w;
    };
    plans.set(
      group,
      p.map((fraction) => {
        const rows = percentileRows(n, fraction);
        return { first: at(rows.first), second: at(rows.second), proportion: rows.proportion };
      }),
    );
  }
  if (wanted.length === 0) return new Map();
  const fine = new Set<number>();
  for (const w of wanted) {
    const shift = groups.get(w.group)!.shift;
    for (let b = w.bucket << shift; b < (w.bucket + 1) << shift; b += 1) fine.add(b);
  }
  const bucketExpr = metric === 'first_response' ? firstResponseBucket : resolutionBucket;
  const end = metric === 'first_response' ? tickets.firstResponseAt : tickets.resolvedAt;
  const shift = sql.raw(String(AGENT_BUCKET_SHIFT));
  const overallBuckets = wanted.filter((w) => w.group === OVERALL).map((w) => w.bucket);
  const agentSlots = wanted.filter((w) => w.group !== OVERALL);
  const picked = rowsOf<{ grp: string; slot: number; rank: number; size: number; seconds: number }>(
    await db.execute(sql`
      with v as materialized (
        select ${tickets.assignee} as agent, ${bucketExpr} as bucket,
               extract(epoch from (${end} - ${tickets.createdAt}))::float8 as seconds
        from ${tickets}
        where ${bucketExpr} = any(${intArray([...fine])}) and ${inPeriod} and ${end} is not null
      ),
      ranked as (
        select ${OVERALL}::text as grp, bucket as slot, seconds,
               row_number() over (partition by bucket order by seconds) - 1 as rank,
               count(*) over (partition by bucket) as size
        from v where bucket = any(${intArray(overallBuckets)})
        union all
        select 'agent:' || agent, bucket >> ${shift}, seconds,
               row_number() over (partition by agent, bucket >> ${shift} order by seconds) - 1,
               count(*) over (partition by agent, bucket >> ${shift})
        from v
        where ('agent:' || agent, bucket >> ${shift}) in (
          select * from unnest(${textArray(agentSlots.map((w) => w.group))}, ${intArray(agentSlots.map((w) => w.bucket))}))
      )
      select grp, slot, rank::int as rank, size::int as size, seconds from ranked
      where (grp, slot, rank) in (
        select * from unnest(${textArray(wanted.map((w) => w.group))}, ${intArray(wanted.map((w) => w.bucket))},
                             ${intArray(wanted.map((w) => w.offset))}))`),
  );
  const found = new Map(picked.map((r) => [`${r.grp}:${num(r.slot)}:${num(r.rank)}`, r]));
  const pick = (w: Wanted): number => {
    const row = found.get(`${w.group}:${w.bucket}:${w.offset}`);
    if (!row || num(row.size) !== w.size) {
      throw new Error(
        `report rollups disagree with the tickets (${metric} bucket ${w.bucket}: ${w.size} counted, ` +
          `${row ? num(row.size) : 'none'} read); delete from report_rollup_days to have them rebuilt`,
      );
    }
    return Number(row.seconds);
  };
  const result = new Map<string, number[]>();
  for (const [group, list] of plans) {
    result.set(
      group,
      list.map((x) => lerp(pick(x.first), pick(x.second), x.proportion)),
    );
  }
  return result;
}

type TimelineRow = { at: string | Date; total: number; negative: number; neutral: number; positive: number };

/**
 * The volume chart: local days from the hourly rollups of clean days, except hours a local midnight
 * cuts (zones a half or quarter hour off UTC), which are read from the tickets with the raw ranges.
 */
export async function timelineFromPlan(
  db: Database,
  input: TimelineInput & { bucket: Bucket },
  plan: PeriodPlan,
): Promise<{ bucket: Bucket; points: TimelinePoint[] }> {
  const filter = input.filter ?? {};
  if (input.bucket === 'hour' || filter.tag !== undefined || plan.days.length === 0) {
    return { bucket: input.bucket, points: await rawTimeline(db, input) };
  }
  const timeZone = input.timeZone ?? 'UTC';
  const scope = scopeOf(filter);
  const days = new Set(plan.days);
  const cut = rowsOf<{ hour: string | Date }>(
    await db.execute(sql`
      select h as hour
      from generate_series(${`${plan.days[0]}T00:00:00Z`}::timestamptz, ${`${plan.days.at(-1)}T23:00:00Z`}::timestamptz,
                           interval '1 hour') as h
      where date_trunc('day', h, ${timeZone}) <> date_trunc('day', h + interval '1 hour' - interval '1 microsecond', ${timeZone})`),
  )
    .map((r) => new Date(r.hour))
    .filter((h) => days.has(utcDay(h)));
  const raw = [...plan.raw, ...cut.map((h) => ({ from: h, to: new Date(h.getTime() + 3_600_000) }))];
  const rows = rowsOf<TimelineRow>(
    await db.execute(sql`
      select at, sum(total)::int as total, sum(negative)::int as negative, sum(neutral)::int as neutral,
             sum(positive)::int as positive
      from (
        select date_trunc('day', ${reportHourVolume.hour}, ${timeZone}) as at, ${reportHourVolume.total},
               ${reportHourVolume.negative}, ${reportHourVolume.neutral}, ${reportHourVolume.positive}
        from ${reportHourVolume}
        where ${inDays(reportHourVolume.day, plan)} and ${rollupScope(reportHourVolume, scope)}
          and ${reportHourVolume.hour} <> all(${timestampList(cut)})
        union all
        select date_trunc('day', ${tickets.createdAt}, ${timeZone}), 1, (${tickets.sentiment} = 'negative')::int,
               (${tickets.sentiment} = 'neutral')::int, (${tickets.sentiment} = 'positive')::int
        from ${tickets}
        where ${createdIn(raw)} and ${tickets.spam} = 0 and ${ticketScope(scope)}
      ) as points
      group by 1 order by 1`),
  );
  return { bucket: input.bucket, points: timelinePoints(rows) };
}

function timestampList(values: readonly Date[]): SQL {
  return sqlArray(
    values.map((v) => v.toISOString()),
    'timestamptz',
  );
}
