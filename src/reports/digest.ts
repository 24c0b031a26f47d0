import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { outbox } from '../db/schema/index.js';
import type { JobDefinition } from '../jobs/types.js';
import { buildLeadSummaryBlocks } from './blocks.js';
import { chartUrl } from './chart-link.js';
import { startOfLocalDay } from './period.js';
import { summarize } from './summarize.js';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export type DigestKind = 'daily' | 'weekly';

export interface DigestOptions {
  channel: string;
  timeZone: string;
  publicUrl?: string | null;
  chartSecret?: string | null;
}

/**
 * Queues a digest of the previous local day (daily) or the previous seven local days (weekly) to the
 * digest channel: the same report as `/earshot summary`. The dedupe key names the period, so a
 * digest is queued once even if the tick is run again.
 */
export async function postDigest(db: Database, kind: DigestKind, now: Date, options: DigestOptions) {
  const to = startOfLocalDay(now, options.timeZone);
  const from = startOfLocalDay(now, options.timeZone, kind === 'daily' ? -1 : -7);
  const summary = await summarize(db, { from, to, timeZone: options.timeZone, now });
  const day = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: options.timeZone }).format(d);
  const lastDay = new Date(to.getTime() - 1);
  const title = kind === 'daily' ? `Daily digest: ${day(from)}` : `Weekly digest: ${day(from)} – ${day(lastDay)}`;
  const url =
    options.publicUrl && options.chartSecret
      ? chartUrl(options.publicUrl, options.chartSecret, { from, to, timeZone: options.timeZone, filter: {} })
      : null;
  const message = buildLeadSummaryBlocks(summary, { title, chartUrl: url });
  const inserted = await db
    .insert(outbox)
    .values({
      kind: 'message',
      channel: options.channel,
      dedupeKey: `digest:${kind}:${from.toISOString()}`,
      payload: message,
    })
    .onConflictDoNothing()
    .returning({ id: outbox.id });
  return { kind, from, to, queued: inserted.length, tickets: summary.volume.count };
}

/** The digest jobs config asks for: daily at the hour, weekly on the day at the hour, in the zone. */
export function digestJobs(config: Config): JobDefinition[] {
  const options: DigestOptions = {
    channel: config.EARSHOT_DIGEST_CHANNEL ?? config.EARSHOT_LEADS_CHANNEL,
    timeZone: config.EARSHOT_DIGEST_TIMEZONE,
    publicUrl: config.EARSHOT_PUBLIC_URL ?? null,
    chartSecret: config.SLACK_SIGNING_SECRET ?? null,
  };
  const hour = config.EARSHOT_DIGEST_HOUR;
  const jobs: JobDefinition[] = [];
  if (config.EARSHOT_DIGEST_DAILY) {
    jobs.push({
      name: 'digest-daily',
      schedule: `0 ${hour} * * *`,
      timezone: config.EARSHOT_DIGEST_TIMEZONE,
      run: ({ db, scheduledFor }) => postDigest(db, 'daily', scheduledFor, options),
    });
  }
  if (config.EARSHOT_DIGEST_WEEKLY_DAY !== 'off') {
    jobs.push({
      name: 'digest-weekly',
      schedule: `0 ${hour} * * ${WEEKDAYS.indexOf(config.EARSHOT_DIGEST_WEEKLY_DAY)}`,
      timezone: config.EARSHOT_DIGEST_TIMEZONE,
      run: ({ db, scheduledFor }) => postDigest(db, 'weekly', scheduledFor, options),
    });
  }
  return jobs;
}
