import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { type Database, rowsOf, sqlArray } from '../db/database.js';
import {
  durationBucket,
  reportDayAgentDurations,
  reportDayAgents,
  reportDayAuthors,
  reportDayCounts,
  reportDayDurations,
  reportHourVolume,
  reportRollupDays,
  reportRollupMarks,
  tickets,
} from '../db/schema/index.js';

/**
 * Daily rollups of the lead report. Each rollup row is what the report's SQL below computes from the
 * raw rows of one UTC day's tickets, so a period is read as clean whole days from the rollups plus
 * raw rows for the rest (its partial first and last days, days changed since their build), and the
 * sum is the figure the raw rows alone give. Medians and p90s stay exact: the histograms only say
 * which bucket holds the wanted rank, and that bucket's values are then read from the tickets.
 *
 * A day is clean while it has no mark: triggers (migration 0006) mark a ticket's creation day when
 * a column, event type or reply state these builders read changes, in the writer's transaction; the
 * report-rollups job rebuilds marked days. Bump ROLLUP_VERSION whenever a row builder changes (days
 * built by another version are not read, and the job rebuilds them); a builder reading something
 * new must also have it marked by a new migration.
 */
export const ROLLUP_VERSION = 1;

/** Agent histograms merge 2^AGENT_BUCKET_SHIFT adjacent buckets (fewer rows per agent and day). */
export const AGENT_BUCKET_SHIFT = 1;

const DAY_MS = 86_400_000;

export interface TimeRange {
  from: Date;
  to: Date;
}

/** A period split into clean whole UTC days (read from rollups) and ranges read from the tickets. */
export interface PeriodPlan {
  days: string[];
  raw: TimeRange[];
}

/** The report's narrowing to one source and/or one channel (tags are read from the raw rows only). */
export interface RollupScope {
  sourceId?: number;
  channel?: string;
}

/** `YYYY-MM-DD` of the UTC day holding `instant`. */
export function utcDay(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** Splits [from, to) into the whole UTC days found in `clean` and raw ranges (merged when adjacent). */
export function planPeriod(from: Date, to: Date, clean: ReadonlySet<string>): PeriodPlan {
  const days: string[] = [];
  const raw: TimeRange[] = [];
  const start = from.getTime();
  const end = to.getTime();
  const addRaw = (a: number, b: number) => {
    if (b <= a) return;
    const last = raw.at(-1);
    if (last && last.to.getTime() === a) last.to = new Date(b);
    else raw.push({ from: new Date(a), to: new Date(b) });
  };
  for (let day = Math.floor(start / DAY_MS) * DAY_MS; day < end; day += DAY_MS) {
    const next = day + DAY_MS;
    const name = utcDay(new Date(day));
    if (day >= start && next <= end && clean.has(name)) days.push(name);
    else addRaw(Math.max(day, start), Math.min(next, end));
  }
  return { days, raw };
}

/** Consecutive days as [start, end) instants. */
export function dayRanges(days: readonly string[]): TimeRange[] {
  const ranges: TimeRange[] = [];
  for (const day of [...days].sort()) {
    const start = Date.parse(`${day}T00:00:00Z`);
    const last = ranges.at(-1);
    if (last && last.to.getTime() === start) last.to = new Date(start + DAY_MS);
    else ranges.push({ from: new Date(start), to: new Date(start + DAY_MS) });
  }
  return ranges;
}

/** `YYYY-MM-DD` days as a date[] of parameters. */
export function dateList(days: readonly string[]): SQL {
  return sqlArray(days, 'date');
}

/** Tickets created in any of the ranges (each an index range scan on created_at). */
export function createdIn(ranges: readonly TimeRange[]): SQL {
  if (ranges.length === 0) return sql`false`;
  return sql`(${sql.join(
    ranges.map(
      (r) =>
        sql`(${tickets.createdAt} >= ${r.from.toISOString()}::timestamptz and ${tickets.createdAt} < ${r.to.toISOString()}::timestamptz)`,
    ),
    sql` or `,
  )})`;
}

/** The scope on the tickets table. */
export function ticketScope(scope: RollupScope): SQL {
  return (
    and(
      scope.sourceId !== undefined ? eq(tickets.sourceId, scope.sourceId) : undefined,
      scope.channel !== undefined ? eq(tickets.channel, scope.channel) : undefined,
    ) ?? sql`true`
  );
}

/** The scope on a rollup table with source_id and channel columns. */
export function rollupScope(table: { sourceId: AnyPgColumn; channel: AnyPgColumn }, scope: RollupScope): SQL {
  return (
    and(
      scope.sourceId !== undefined ? eq(table.sourceId, scope.sourceId) : undefined,
      scope.channel !== undefined ? eq(table.channel, scope.channel) : undefined,
    ) ?? sql`true`
  );
}

const ticketDay = sql`(${tickets.createdAt} at time zone 'UTC')::date`;

/**
 * Counts of the tickets matching `where`, by day, source, channel, metric and key: spam; and of the
 * rest, tickets, first responses, resolutions, SLA outcomes, categories, sentiments and topics. One
 * grouping-sets pass over the tickets (then unpivoted), one pass over their topics.
 */
export function countRows(where: SQL): SQL {
  const kept = sql`${tickets.spam} = 0`;
  return sql`
    select g.day, g.source_id, g.channel, m.metric, m.key, m.count from (
      select ${ticketDay} as day, ${tickets.sourceId} as source_id, ${tickets.channel} as channel,
             ${tickets.category}::text as category, ${tickets.sentiment}::text as sentiment,
             grouping(${tickets.category}::text, ${tickets.sentiment}::text) as level,
             count(*) filter (where ${tickets.spam} <> 0)::int as spam,
             count(*) filter (where ${kept})::int as tickets,
             count(*) filter (where ${kept} and ${tickets.firstResponseAt} is not null)::int as first_responses,
             count(*) filter (where ${kept} and ${tickets.resolvedAt} is not null)::int as resolved,
             count(*) filter (where ${kept} and ${tickets.firstResponseSla} = 'met')::int as fr_met,
             count(*) filter (where ${kept} and ${tickets.firstResponseSla} = 'breached')::int as fr_breached,
             count(*) filter (where ${kept} and ${tickets.resolutionSla} = 'met')::int as res_met,
             count(*) filter (where ${kept} and ${tickets.resolutionSla} = 'breached')::int as res_breached
      from ${tickets}
      where ${where}
      group by grouping sets ((1, 2, 3), (1, 2, 3, 4), (1, 2, 3, 5))
    ) as g
    cross join lateral (
      select 'spam'::text as metric, ''::text as key, g.spam as count where g.level = 3
      union all select 'tickets', '', g.tickets where g.level = 3
      union all select 'first_responses', '', g.first_responses where g.level = 3
      union all select 'resolved', '', g.resolved where g.level = 3
      union all select 'first_response_sla', 'met', g.fr_met where g.level = 3
      union all select 'first_response_sla', 'breached', g.fr_breached where g.level = 3
      union all select 'resolution_sla', 'met', g.res_met where g.level = 3
      union all select 'resolution_sla', 'breached', g.res_breached where g.level = 3
      union all select 'category', g.category, g.tickets where g.level = 1
      union all select 'sentiment', g.sentiment, g.tickets where g.level = 2
    ) as m
    where m.count > 0
    union all
    select ${ticketDay}, ${tickets.sourceId}, ${tickets.channel}, 'topic', topic, count(*)::int
    from ${tickets}, unnest(${tickets.topics}) as topic
    where ${where} and ${kept} and topic is not null
    group by 1, 2, 3, 5`;
}

/**
 * Per agent (a person, not `system:…`): claims (or assignments to themselves), replies and resolves.
 * The events are read per ticket through ticket_events (ticket_id) (OFFSET 0 keeps the planner from
 * hashing the whole timeline when it misjudges how few tickets a day holds).
 */
export function agentRows(where: SQL): SQL {
  const claimed = sql`e.type in ('claimed', 'assigned') and (e.type = 'claimed' or e.details->>'to' = e.actor)`;
  return sql`
    select ${ticketDay} as day, ${tickets.sourceId} as source_id, ${tickets.channel} as channel, e.actor as agent,
           count(*) filter (where ${claimed})::int as claimed,
           count(*) filter (where e.type = 'replied')::int as replied,
           count(*) filter (where e.type = 'resolved')::int as resolved
    from ${tickets}
    cross join lateral (
      select actor, type, details from ticket_events
      where ticket_id = ${tickets.id} and actor not like 'system:%'
        and type in ('claimed', 'assigned', 'replied', 'resolved')
      offset 0
    ) as e
    where ${where} and ${tickets.spam} = 0
    group by 1, 2, 3, 4
    having count(*) filter (where (${claimed}) or e.type in ('replied', 'resolved')) > 0`;
}

/** The histogram bucket of a ticket's first-response and resolution times (the bucket indexes' expressions). */
export const firstResponseBucket = durationBucket(tickets.firstResponseAt, tickets.createdAt);
export const resolutionBucket = durationBucket(tickets.resolvedAt, tickets.createdAt);

/** First-response and resolution histograms. */
export function durationRows(where: SQL): SQL {
  return sql`
    select ${ticketDay} as day, ${tickets.sourceId} as source_id, ${tickets.channel} as channel,
           'first_response'::text as metric, ${firstResponseBucket} as bucket, count(*)::int as count
    from ${tickets} where ${where} and ${tickets.spam} = 0 and ${tickets.firstResponseAt} is not null
    group by 1, 2, 3, 4, 5
    union all
    select ${ticketDay}, ${tickets.sourceId}, ${tickets.channel}, 'resolution', ${resolutionBucket}, count(*)::int
    from ${tickets} where ${where} and ${tickets.spam} = 0 and ${tickets.resolvedAt} is not null
    group by 1, 2, 3, 4, 5`;
}

/** First-response histograms by assignee, in buckets 2^AGENT_BUCKET_SHIFT times wider. */
export function agentDurationRows(where: SQL): SQL {
  return sql`
    select ${ticketDay} as day, ${tickets.assignee} as agent,
           ${firstResponseBucket} >> ${sql.raw(String(AGENT_BUCKET_SHIFT))} as bucket, count(*)::int as count
    from ${tickets}
    where ${where} and ${tickets.spam} = 0 and ${tickets.assignee} is not null and ${tickets.firstResponseAt} is not null
    group by 1, 2, 3`;
}

/** Distinct customers, and those with a sent reply on one of these tickets, as sorted arrays. */
export function authorRows(where: SQL): SQL {
  return sql`
    select ${ticketDay} as day, ${tickets.sourceId} as source_id, ${tickets.channel} as channel,
           array_agg(distinct ${tickets.authorId} order by ${tickets.authorId}) as authors,
           coalesce(array_agg(distinct ${tickets.authorId} order by ${tickets.authorId}) filter (where sent.done), '{}') as answered
    from ${tickets}
    left join lateral (
      select true as done from replies r where r.ticket_id = ${tickets.id} and r.status = 'done' limit 1
    ) as sent on true
    where ${where} and ${tickets.spam} = 0
    group by 1, 2, 3`;
}

/** Tickets per UTC hour by sentiment. */
export function hourRows(where: SQL): SQL {
  return sql`
    select ${ticketDay} as day, date_trunc('hour', ${tickets.createdAt}, 'UTC') as hour,
           ${tickets.sourceId} as source_id, ${tickets.channel} as channel, count(*)::int as total,
           count(*) filter (where ${tickets.sentiment} = 'negative')::int as negative,
           count(*) filter (where ${tickets.sentiment} = 'neutral')::int as neutral,
           count(*) filter (where ${tickets.sentiment} = 'positive')::int as positive
    from ${tickets} where ${where} and ${tickets.spam} = 0
    group by 1, 2, 3, 4`;
}

const ROLLUP_TABLES = [
  reportDayCounts,
  reportDayAgents,
  reportDayDurations,
  reportDayAgentDurations,
  reportDayAuthors,
  reportHourVolume,
] as const;

/**
 * Rebuilds the rollups of `days` from the tickets, in the caller's transaction, and clears their
 * marks. Run it in a REPEATABLE READ transaction: then the marks it deletes are exactly those of the
 * changes its snapshot holds, and a change committed meanwhile keeps its mark for the next run.
 */
export async function rebuildRollupDays(tx: Database, days: readonly string[]): Promise<void> {
  if (days.length === 0) return;
  const list = dateList(days);
  const where = createdIn(dayRanges(days));
  for (const table of ROLLUP_TABLES) await tx.execute(sql`delete from ${table} where day = any(${list})`);
  await tx.execute(
    sql`insert into ${reportDayCounts} (day, source_id, channel, metric, key, count) ${countRows(where)}`,
  );
  await tx.execute(
    sql`insert into ${reportDayAgents} (day, source_id, channel, agent, claimed, replied, resolved) ${agentRows(where)}`,
  );
  await tx.execute(
    sql`insert into ${reportDayDurations} (day, source_id, channel, metric, bucket, count) ${durationRows(where)}`,
  );
  await tx.execute(sql`insert into ${reportDayAgentDurations} (day, agent, bucket, count) ${agentDurationRows(where)}`);
  await tx.execute(
    sql`insert into ${reportDayAuthors} (day, source_id, channel, authors, answered) ${authorRows(where)}`,
  );
  await tx.execute(
    sql`insert into ${reportHourVolume} (day, hour, source_id, channel, total, negative, neutral, positive) ${hourRows(where)}`,
  );
  await tx.execute(sql`
    insert into ${reportRollupDays} (day, version, built_at)
    select d, ${ROLLUP_VERSION}, now() from unnest(${list}) as d
    on conflict (day) do update set version = excluded.version, built_at = excluded.built_at`);
  await tx.execute(sql`delete from ${reportRollupMarks} where day = any(${list})`);
}

export interface RebuildResult {
  days: number;
  /** Work left for the next run (the run stopped after maxBatches). */
  more: boolean;
}

/**
 * The report-rollups job: rebuilds every complete UTC day before `now` that is marked or not built
 * by this version (newest first, `batchDays` per transaction). The first run after an upgrade
 * backfills the whole history this way.
 */
export async function rebuildReportRollups(
  db: Database,
  options: { now: Date; batchDays?: number; maxBatches?: number },
): Promise<RebuildResult> {
  const batchDays = options.batchDays ?? 31;
  const maxBatches = options.maxBatches ?? 40;
  const today = utcDay(options.now);
  let built = 0;
  for (let batch = 0; batch < maxBatches; batch += 1) {
    const days = await db.transaction(
      async (tx) => {
        const wanted = rowsOf<{ day: string }>(
          await tx.execute(sql`
            with first_day as (select (min(${tickets.createdAt}) at time zone 'UTC')::date as day from ${tickets}),
            wanted as (
              select m.day from ${reportRollupMarks} m where m.day < ${today}::date
              union
              select d::date from first_day, generate_series(first_day.day::timestamp, (${today}::date - 1)::timestamp, interval '1 day') as d
              where not exists (
                select 1 from ${reportRollupDays} r where r.day = d::date and r.version = ${ROLLUP_VERSION})
            )
            select to_char(day, 'YYYY-MM-DD') as day from wanted order by day desc limit ${batchDays}`),
        ).map((r) => r.day);
        await rebuildRollupDays(tx, wanted);
        return wanted;
      },
      { isolationLevel: 'repeatable read' },
    );
    built += days.length;
    if (days.length < batchDays) return { days: built, more: false };
  }
  return { days: built, more: true };
}

/** Days in [first, last] whose rollups are built by this version and unchanged since. */
export async function cleanRollupDays(db: Database, first: string, last: string): Promise<Set<string>> {
  const rows = rowsOf<{ day: string }>(
    await db.execute(sql`
      select to_char(r.day, 'YYYY-MM-DD') as day from ${reportRollupDays} r
      where r.day >= ${first}::date and r.day <= ${last}::date and r.version = ${ROLLUP_VERSION}
        and not exists (select 1 from ${reportRollupMarks} m where m.day = r.day)`),
  );
  return new Set(rows.map((r) => r.day));
}
