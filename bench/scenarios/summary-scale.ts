import postgres from 'postgres';
import { parseSummaryArgs } from '../../src/reports/period.js';
import { rebuildReportRollups } from '../../src/reports/rollups.js';
import { type LeadSummary, summarize, summarizeRaw } from '../../src/reports/summarize.js';
import { connectBenchDatabase, createBenchDatabase } from '../lib/database.js';
import { emptyResult, type ScenarioResult } from '../lib/report.js';
import { blockPercentile, pairRatio, summarize as summarizeRuns } from '../lib/stats.js';

export interface SummaryScaleOptions {
  /** Ticket counts to measure at, ascending; each seeds the difference onto the last. */
  scales: readonly number[];
  /** Tickets a day, constant: the newest ticket is an hour old, and a larger scale reaches further back. */
  ticketsPerDay: number;
  blocks: number;
  /** Samples per block at most; fewer when one pair of runs is slow, to keep to `secondsPerPeriod`. */
  samplesPerBlock: number;
  secondsPerPeriod: number;
}

const SCENARIO = 'summary at scale';
const TARGET_MS = 200;
const AUTHORS = 50_000;
const AGENTS = 25;

/**
 * `/earshot summary 7d` and `30d` through the report's own function (src/reports/summarize.ts, the
 * figures the command renders) on 100,000 and 1,000,000 seeded tickets with their timeline events
 * and replies, beside the same aggregation written as one SQL statement, interleaved run by run.
 * After each seeding the report-rollups job's own function builds the daily rollups, as the job
 * does on the first run after an upgrade; the report's figures are checked against the report
 * computed from the tickets alone (summarizeRaw) and against the one statement.
 */
export async function benchSummaryScale(options: SummaryScaleOptions): Promise<ScenarioResult> {
  const result = emptyResult();
  const database = await createBenchDatabase();
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const handle = await connectBenchDatabase(database.url, 10);
  try {
    // The history ends at the start of this hour: the same rows relative to "now" in every run.
    const [anchorRow] = await sql<{ anchor: Date }[]>`select date_trunc('hour', now()) as anchor`;
    const anchor = anchorRow!.anchor;
    await seedReferenceRows(sql);
    let seeded = 0;
    const seedSeconds: number[] = [];
    const rollupSeconds: number[] = [];
    for (const scale of options.scales) {
      const started = performance.now();
      await seedTickets(sql, { from: seeded + 1, to: scale, anchor, ticketsPerDay: options.ticketsPerDay });
      seedSeconds.push((performance.now() - started) / 1000);
      const rollupStarted = performance.now();
      const built = await rebuildReportRollups(handle.db, { now: new Date() });
      rollupSeconds.push((performance.now() - rollupStarted) / 1000);
      result.checks.push({
        scenario: SCENARIO,
        name: `${scale.toLocaleString('en')} tickets: the report-rollups job builds every complete day`,
        ok: !built.more && built.days > 0,
        detail: `${built.days} days`,
      });
      seeded = scale;
      const label = scale >= 1_000_000 ? `${scale / 1_000_000}M` : `${Math.round(scale / 1000)}k`;
      for (const period of ['7d', '30d']) {
        const now = new Date();
        const { from, to } = parseSummaryArgs(period, now, 'UTC');
        const input = { from, to, now };
        // Warm-up: plans cached, pages in shared buffers, for both sides alike.
        const warmStarted = performance.now();
        const report = await summarize(handle.db, input);
        const reference = await naiveSummary(sql, input);
        const pairMs = performance.now() - warmStarted;
        const samples = Math.max(
          1,
          Math.min(options.samplesPerBlock, Math.floor((options.secondsPerPeriod * 1000) / (pairMs * options.blocks))),
        );
        const mismatch = compareFigures(report, reference);
        result.checks.push({
          scenario: SCENARIO,
          name: `${label} ${period}: the reference query computes the same figures`,
          ok: mismatch.length === 0,
          detail: mismatch.length ? mismatch.join('; ') : `${report.volume.count} tickets, ${report.resolved} resolved`,
        });
        const differing = differingFields(report, await summarizeRaw(handle.db, input));
        result.checks.push({
          scenario: SCENARIO,
          name: `${label} ${period}: the report from rollups equals the report from the tickets alone`,
          ok: differing.length === 0,
          detail: differing.length
            ? `differs in ${differing.join(', ')}`
            : `every field, medians and p90s included (first response ${report.firstResponse.medianSeconds} s / ${report.firstResponse.p90Seconds} s)`,
        });
        const ours: number[][] = [];
        const theirs: number[][] = [];
        for (let b = 0; b < options.blocks; b += 1) {
          const a: number[] = [];
          const r: number[] = [];
          for (let s = 0; s < samples; s += 1) {
            a.push(await timed(() => summarize(handle.db, input)));
            r.push(await timed(() => naiveSummary(sql, input)));
          }
          ours.push(a);
          theirs.push(r);
        }
        for (const p of [50, 95]) {
          const value = blockPercentile(ours, p);
          const ref = blockPercentile(theirs, p);
          const atTarget = p === 95 && scale >= 1_000_000;
          result.rows.push({
            scenario: SCENARIO,
            metric: `${label} tickets, summary ${period} (${report.volume.count + report.volume.previous} in both periods, ${options.blocks}×${samples} runs), p${p}`,
            unit: 'ms',
            value,
            reference: { label: `one SQL statement p${p}`, value: ref },
            ratio: pairRatio(value, ref),
            ...(atTarget ? { target: { text: `< ${TARGET_MS} ms`, met: value.median < TARGET_MS } } : {}),
          });
        }
      }
    }
    result.rows.push({
      scenario: SCENARIO,
      metric: `seeding ${options.scales.map((s) => s.toLocaleString('en')).join(' then ')} tickets with events and replies`,
      unit: 's',
      value: summarizeRuns([seedSeconds.reduce((a, b) => a + b, 0)]),
    });
    result.rows.push({
      scenario: SCENARIO,
      metric: 'building the daily rollups of that history (report-rollups job, first run after each seeding)',
      unit: 's',
      value: summarizeRuns([rollupSeconds.reduce((a, b) => a + b, 0)]),
    });
    result.notes.push(
      `Tickets arrive at a constant ${options.ticketsPerDay.toLocaleString('en')} a day up to the current hour, so ` +
        `100,000 tickets are the last ${Math.round(100_000 / options.ticketsPerDay)} days and a million a year: the ` +
        'periods hold the same tickets at both scales and only the table grows. Each ticket has its created event, ' +
        'claimed/replied/resolved events and a sent reply where its status says so (older than two weeks, all but ' +
        '0.5% are resolved or closed), rows stored in arrival order; ' +
        'values come from hashes of the ticket number, so every run seeds the same rows.',
      'summarize() reads whole UTC days from daily rollups (src/reports/rollups.ts: counts by category, sentiment, ' +
        "source, topic and SLA outcome; agent actions; first-response and resolution histograms; the day's customer ids; " +
        'hourly volume) and the partial first and last days from the tickets. The rollups are rebuilt by a job from ' +
        'the same SQL, for days the triggers marked as changed; a changed day is read from the tickets until then. ' +
        'Medians and p90s stay exact: the histograms say which bucket holds the rank percentile_cont reads, and that ' +
        "bucket's values are ranked from an index read of the tickets. The reads run on three connections that " +
        'share one exported snapshot. What remains proportional to the period: the distinct customers (a union of ' +
        "the days' id arrays) and the buckets fetched for the medians.",
      "The one SQL statement reads both periods' tickets and joins the whole timeline: it grows with the table " +
        'the way the report did before the rollups.',
    );
  } finally {
    await handle.close();
    await sql.end();
    await database.drop();
  }
  return result;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

export async function seedReferenceRows(sql: postgres.Sql): Promise<void> {
  await sql`insert into sources (name, kind) values ('x', 'x'), ('app-feedback', 'webhook'), ('email', 'webhook')`;
  await sql`
    insert into authors (source_id, external_id, handle, follower_count)
    select (select min(id) from sources) + g % 3, 'seed-' || g, 'customer' || g, (hashint4(g)::bigint & 1048575)::int
    from generate_series(1, ${AUTHORS}) as g`;
}

/**
 * Tickets number `from`…`to` in one INSERT … SELECT over generate_series, then their events and
 * replies the same way. Every value is a hash of the ticket number (hashint8 with a salt per column).
 */
export async function seedTickets(
  sql: postgres.Sql,
  input: { from: number; to: number; anchor: Date; ticketsPerDay: number },
): Promise<void> {
  // Secondary indexes are dropped for the bulk insert and rebuilt after from their own definitions
  // (a sorted build beats a million incremental insertions, the GIN index on tags above all).
  const indexes = await sql<{ name: string; definition: string }[]>`
    select i.indexname as name, i.indexdef as definition from pg_indexes i
    join pg_class c on c.relname = i.indexname join pg_index x on x.indexrelid = c.oid
    where i.schemaname = 'public' and i.tablename in ('tickets', 'ticket_events', 'replies')
      and not x.indisprimary and not x.indisunique`;
  for (const index of indexes) await sql.unsafe(`drop index ${index.name}`);
  // Foreign keys likewise: checked row by row they cost one trigger and one index probe for each of
  // some five million rows; added back after, each is validated by one join over the whole table.
  const foreignKeys = await sql<{ table: string; name: string; definition: string }[]>`
    select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as definition
    from pg_constraint
    where contype = 'f' and conrelid in ('tickets'::regclass, 'ticket_events'::regclass, 'replies'::regclass)`;
  for (const key of foreignKeys) await sql.unsafe(`alter table ${key.table} drop constraint ${key.name}`);
  const [ids] = await sql<{ source: number; author: number; before: number }[]>`
    select (select min(id) from sources) as source, (select min(id) from authors) as author,
           coalesce((select max(id) from tickets), 0) as before`;
  const { source, author, before } = ids!;
  // Ticket number g is the g-th newest, 86,400 / ticketsPerDay seconds apart (with jitter), inserted oldest
  // first: rows lie on disk in the order they arrived, as they do in production.
  const stepSeconds = 86_400 / input.ticketsPerDay;
  await sql.begin(async (tx) => {
    await tx`set local synchronous_commit = off`;
    await tx`set local work_mem = '64MB'`;
    await tx`
      insert into tickets (source_id, author_id, conversation_id, status, priority, category, sentiment,
        sentiment_score, language, topics, tags, spam, assignee, channel, last_customer_message_at,
        first_response_due_at, resolution_due_at, first_response_at, resolved_at, closed_at,
        first_response_sla, resolution_sla, created_at, updated_at)
      select ${source}::int + (h.h3 % 3)::int, ${author}::int + (h.h2 % ${AUTHORS})::int, 'seed-' || g,
        s.status::ticket_status,
        (case when h.h5 % 100 < 3 then 'P1' when h.h5 % 100 < 15 then 'P2' when h.h5 % 100 < 70 then 'P3' else 'P4' end)::ticket_priority,
        (array['question','complaint','bug_report','suggestion','praise','other'])[1 + h.h6 % 6]::ticket_category,
        (case when h.h7 % 10 < 5 then 'negative' when h.h7 % 10 < 8 then 'neutral' else 'positive' end)::sentiment_label,
        ((h.h7 % 200) - 100) / 100.0, 'en',
        array[(array['refund','delivery','login','checkout','outage','billing','app crash','shipping','account','pricing','dark mode','tracking'])[1 + h.h8 % 12]],
        case when h.h9 % 20 = 0 then array['vip'] else '{}'::text[] end,
        case when h.h9 % 50 = 1 then 1 else 0 end,
        case when s.status <> 'new' then 'U0AGENT' || lpad((h.h10 % ${AGENTS})::text, 2, '0') end,
        'earshot-feedback', c.created_at, c.created_at + interval '1 hour', c.created_at + interval '24 hours',
        case when s.status <> 'new' then c.created_at + (h.h11 % 14400) * interval '1 second' end,
        case when s.status in ('resolved', 'closed') then c.created_at + (14400 + h.h12 % 259200) * interval '1 second' end,
        case when s.status = 'closed' then c.created_at + (100800 + h.h12 % 259200) * interval '1 second' end,
        (case when s.status = 'new' then 'ok' when h.h11 % 14400 < 3600 then 'met' else 'breached' end)::sla_state,
        (case when s.status not in ('resolved', 'closed') then 'ok' when h.h12 % 259200 < 72000 then 'met' else 'breached' end)::sla_state,
        c.created_at, c.created_at
      from generate_series(${input.to}::int, ${input.from}::int, -1) as g
      cross join lateral (
        select (hashint8(g::int8 * 16 + 1)::int8 & 2147483647) as h1, (hashint8(g::int8 * 16 + 2)::int8 & 2147483647) as h2,
               (hashint8(g::int8 * 16 + 3)::int8 & 2147483647) as h3, (hashint8(g::int8 * 16 + 4)::int8 & 2147483647) as h4,
               (hashint8(g::int8 * 16 + 5)::int8 & 2147483647) as h5, (hashint8(g::int8 * 16 + 6)::int8 & 2147483647) as h6,
               (hashint8(g::int8 * 16 + 7)::int8 & 2147483647) as h7, (hashint8(g::int8 * 16 + 8)::int8 & 2147483647) as h8,
               (hashint8(g::int8 * 16 + 9)::int8 & 2147483647) as h9, (hashint8(g::int8 * 16 + 10)::int8 & 2147483647) as h10,
               (hashint8(g::int8 * 16 + 11)::int8 & 2147483647) as h11, (hashint8(g::int8 * 16 + 12)::int8 & 2147483647) as h12
      ) as h
      cross join lateral (
        select ${input.anchor}::timestamptz - (g + (h.h1 % 1000) / 1000.0) * ${stepSeconds} * interval '1 second' as created_at
      ) as c
      cross join lateral (
        select case
          when c.created_at > ${input.anchor}::timestamptz - interval '2 days' and h.h4 % 100 < 40 then 'new'
          when c.created_at > ${input.anchor}::timestamptz - interval '14 days' and h.h4 % 100 < 3 then 'new'
          when c.created_at > ${input.anchor}::timestamptz - interval '14 days' and h.h4 % 100 < 8 then 'claimed'
          when c.created_at > ${input.anchor}::timestamptz - interval '14 days' and h.h4 % 100 < 12 then 'waiting'
          when h.h4 % 1000 < 5 then 'waiting'
          when h.h4 % 100 < 75 then 'resolved' else 'closed' end as status
      ) as s`;
    await tx`
      insert into ticket_events (ticket_id, actor, type, details, created_at)
      select id, 'system:ingest', 'created', '{}'::jsonb, created_at from tickets where id > ${before}
      union all
      select id, assignee, 'claimed', '{}'::jsonb, created_at + interval '1 minute'
        from tickets where id > ${before} and assignee is not null
      union all
      select id, assignee, 'replied', '{}'::jsonb, first_response_at from tickets where id > ${before} and first_response_at is not null
      union all
      select id, assignee, 'resolved', '{}'::jsonb, resolved_at from tickets where id > ${before} and resolved_at is not null`;
    await tx`
      insert into replies (ticket_id, source_id, sent_by, text, parts, external_ids, idempotency_key, status, created_at, sent_at)
      select id, source_id, assignee, 'Thanks for telling us, we are on it.', '["Thanks for telling us, we are on it."]'::jsonb,
             '["1"]'::jsonb, 'seed-' || id, 'done', first_response_at, first_response_at
      from tickets where id > ${before} and first_response_at is not null`;
  });
  await sql`set maintenance_work_mem = '256MB'`;
  for (const index of indexes) await sql.unsafe(index.definition);
  for (const key of foreignKeys) {
    await sql.unsafe(`alter table ${key.table} add constraint ${key.name} ${key.definition}`);
  }
  await sql`analyze tickets`;
  await sql`analyze ticket_events`;
  await sql`analyze replies`;
}

interface NaiveFigures {
  total: number;
  previous: number;
  spam: number;
  resolved: number;
  customers: number;
  answered: number;
  backlog: number;
  agents: number;
  durations: { frMedian: number | null; frP90: number | null } | null;
  resolution: { median: number | null; p90: number | null } | null;
  sla: { frMet: number; frBreached: number; resMet: number; resBreached: number };
}

/**
 * The lead summary as one statement: the two periods' tickets read once, every figure derived from
 * that pass (the backlog reads open tickets of all time, as the report does).
 */
export async function naiveSummary(
  sql: postgres.Sql,
  input: { from: Date; to: Date; now: Date },
): Promise<NaiveFigures> {
  const previousFrom = new Date(input.from.getTime() - (input.to.getTime() - input.from.getTime()));
  const [row] = await sql<{ figures: NaiveFigures }[]>`
    with base as materialized (
      select id, author_id, source_id, category, sentiment, spam, topics, assignee, created_at,
             first_response_at, resolved_at, first_response_sla, resolution_sla, created_at >= ${input.from} as cur
      from tickets where created_at >= ${previousFrom} and created_at < ${input.to}
    ),
    cur as (select * from base where cur and spam = 0),
    prev as (select * from base where not cur and spam = 0),
    agents as (
      select e.actor, count(*) filter (where e.type in ('claimed', 'assigned')) as claimed,
             count(*) filter (where e.type = 'replied') as replied, count(*) filter (where e.type = 'resolved') as resolved
      from ticket_events e join cur on cur.id = e.ticket_id where e.actor not like 'system:%' group by e.actor
    )
    select json_build_object(
      'total', (select count(*) from cur),
      'previous', (select count(*) from prev),
      'spam', (select count(*) from base where cur and spam <> 0),
      'byCategory', (select json_agg(x) from (select cur, category, count(*) from base where spam = 0 group by 1, 2) x),
      'bySentiment', (select json_agg(x) from (select cur, sentiment, count(*) from base where spam = 0 group by 1, 2) x),
      'bySource', (select json_agg(x) from (select cur, source_id, count(*) from base where spam = 0 group by 1, 2) x),
      'durations', (select json_build_object(
          'frMedian', percentile_cont(0.5) within group (order by extract(epoch from first_response_at - created_at)),
          'frP90', percentile_cont(0.9) within group (order by extract(epoch from first_response_at - created_at)))
        from cur where first_response_at is not null),
      'resolution', (select json_build_object(
          'median', percentile_cont(0.5) within group (order by extract(epoch from resolved_at - created_at)),
          'p90', percentile_cont(0.9) within group (order by extract(epoch from resolved_at - created_at)))
        from cur where resolved_at is not null),
      'resolved', (select count(resolved_at) from cur),
      'sla', (select json_build_object(
          'frMet', count(*) filter (where first_response_sla = 'met'), 'frBreached', count(*) filter (where first_response_sla = 'breached'),
          'resMet', count(*) filter (where resolution_sla = 'met'), 'resBreached', count(*) filter (where resolution_sla = 'breached'))
        from cur),
      'customers', (select count(distinct author_id) from cur),
      'topics', (select json_agg(x) from (
          select cur, topic, count(*) from base, unnest(topics) as topic where spam = 0
          group by 1, 2 order by 3 desc limit 40) x),
      'backlog', (select count(*) from tickets
          where status in ('new', 'claimed', 'waiting') and spam = 0 and created_at < ${input.to}),
      'backlogBuckets', (select json_agg(x) from (
          select width_bucket(extract(epoch from (${input.now}::timestamptz - created_at)) / 3600,
                              array[1, 4, 24, 72, 168]::float8[]) as bucket, count(*)
          from tickets where status in ('new', 'claimed', 'waiting') and spam = 0 and created_at < ${input.to}
          group by 1) x),
      'agents', (select count(*) from agents),
      'answered', (select count(distinct c.author_id) from cur c
          where exists (select 1 from replies r where r.ticket_id = c.id and r.status = 'done')),
      'timeline', (select json_agg(x) from (
          select date_trunc('day', created_at, 'UTC') as at, count(*) from cur group by 1 order by 1) x)
    ) as figures`;
  return row!.figures;
}

/** Top-level fields of the two reports that differ (an empty list: the same report). */
function differingFields(a: LeadSummary, b: LeadSummary): string[] {
  return (Object.keys(a) as (keyof LeadSummary)[]).filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]));
}

function compareFigures(report: LeadSummary, naive: NaiveFigures): string[] {
  const rounded = (value: number | null | undefined) =>
    value === null || value === undefined ? null : Math.round(value);
  const pairs: [string, number | null, number | null][] = [
    ['first-response median', report.firstResponse.medianSeconds, rounded(naive.durations?.frMedian)],
    ['first-response p90', report.firstResponse.p90Seconds, rounded(naive.durations?.frP90)],
    ['resolution median', report.resolution.medianSeconds, rounded(naive.resolution?.median)],
    ['resolution p90', report.resolution.p90Seconds, rounded(naive.resolution?.p90)],
    ['first responses met', report.sla.firstResponse.met, naive.sla.frMet],
    ['first responses breached', report.sla.firstResponse.breached, naive.sla.frBreached],
    ['resolutions met', report.sla.resolution.met, naive.sla.resMet],
    ['resolutions breached', report.sla.resolution.breached, naive.sla.resBreached],
    ['tickets', report.volume.count, naive.total],
    ['previous', report.volume.previous, naive.previous],
    ['spam', report.spam, naive.spam],
    ['resolved', report.resolved, naive.resolved],
    ['customers', report.customers, naive.customers],
    ['answered', report.customersAnswered, naive.answered],
    ['backlog', report.backlog.total, naive.backlog],
    ['agents', report.agents.length, naive.agents],
  ];
  return pairs
    .filter(([, a, b]) => a !== (b === null ? null : Number(b)))
    .map(([name, a, b]) => `${name}: ${a} vs ${b}`);
}
