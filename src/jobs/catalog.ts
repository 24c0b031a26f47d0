import type { Config } from '../config.js';
import { routingFromConfig, runCrisisDetection, thresholdsFromConfig } from '../crisis/job.js';
import type { DatabaseHandle } from '../db/client.js';
import { vacuumEmbedded } from '../db/maintenance.js';
import type { Metrics } from '../observability/metrics.js';
import { queueClosingMessages } from '../privacy/closing.js';
import { runRetention } from '../privacy/retention.js';
import { digestJobs } from '../reports/digest.js';
import { rebuildReportRollups } from '../reports/rollups.js';
import { runSlaSweep } from '../sla/sweep.js';
import type { JobDefinition } from './types.js';

/** Resolved tickets this far back still get their closing message, so the job catches up after an outage. */
const CLOSING_LOOKBACK_MS = 24 * 60 * 60_000;
/** 03:30 UTC, away from the digests' usual morning hour. */
export const RETENTION_SCHEDULE = '30 3 * * *';
/** Hourly, off the quarter hours the other jobs like: the embedded database's vacuum and statistics. */
export const EMBEDDED_MAINTENANCE_SCHEDULE = '47 * * * *';

/**
 * Every scheduled job of Earshot, as data. Schedules come from config so operators can slow a job
 * down or move the digests without a deploy.
 */
export function buildJobs(
  config: Config,
  metrics: Metrics | null = null,
  databaseKind: DatabaseHandle['kind'] = 'postgres',
): JobDefinition[] {
  const jobs: JobDefinition[] = [
    {
      name: 'sla-sweep',
      schedule: config.EARSHOT_SLA_SWEEP_CRON,
      run: async ({ db, scheduledFor }) =>
        runSlaSweep(db, {
          now: scheduledFor,
          leadsChannel: config.EARSHOT_LEADS_CHANNEL,
          onDutyGroups: config.EARSHOT_ON_DUTY_GROUPS,
          escalateOnDutyMinutes: config.EARSHOT_ESCALATE_ON_DUTY_MINUTES,
          escalateLeadsMinutes: config.EARSHOT_ESCALATE_LEADS_MINUTES,
          metrics,
        }),
    },
    {
      name: 'crisis-detection',
      schedule: config.EARSHOT_CRISIS_CRON,
      // Detects as of the moment the run starts, not the tick's whole second: posts received in that
      // second (a burst just before a manual tick) are in it.
      run: async ({ db, now }) =>
        runCrisisDetection(db, {
          now: now(),
          thresholds: thresholdsFromConfig(config),
          routing: routingFromConfig(config),
          metrics,
        }),
    },
    ...digestJobs(config),
    {
      // Closing messages go a minute or so after the resolve, so a resolve undone at once sends nothing.
      name: 'closing-messages',
      schedule: '* * * * *',
      run: async ({ db, scheduledFor }) => ({
        queued: await queueClosingMessages(db, new Date(scheduledFor.getTime() - CLOSING_LOOKBACK_MS)),
      }),
    },
    {
      // The lead report's daily rollups: days changed since their build, and (after an upgrade) the
      // whole history, newest first. The report reads raw rows for a day until it is rebuilt.
      name: 'report-rollups',
      schedule: '* * * * *',
      staleAfterMs: 30 * 60_000,
      run: async ({ db, now }) => rebuildReportRollups(db, { now: now() }),
    },
    {
      // Nightly; always prunes job history, and customer data when EARSHOT_RETENTION_DAYS > 0.
      name: 'retention',
      schedule: RETENTION_SCHEDULE,
      staleAfterMs: 6 * 60 * 60_000,
      run: async ({ db, scheduledFor }) =>
        runRetention(db, {
          now: scheduledFor,
          days: config.EARSHOT_RETENTION_DAYS,
          mode: config.EARSHOT_RETENTION_MODE,
        }),
    },
  ];
  // A server's autovacuum keeps its statistics and dead rows in hand; PGlite has none running.
  if (databaseKind === 'pglite') {
    jobs.push({
      name: 'embedded-maintenance',
      schedule: EMBEDDED_MAINTENANCE_SCHEDULE,
      run: async ({ db }) => vacuumEmbedded(db),
    });
  }
  return jobs;
}
