import type { Config } from '../config.js';
import { routingFromConfig, runCrisisDetection, thresholdsFromConfig } from '../crisis/job.js';
import { digestJobs } from '../reports/digest.js';
import { runSlaSweep } from '../sla/sweep.js';
import type { JobDefinition } from './types.js';

/**
 * Every scheduled job of Earshot, as data. Schedules come from config so operators can slow a job
 * down or move the digests without a deploy.
 */
export function buildJobs(config: Config): JobDefinition[] {
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
        }),
    },
    {
      name: 'crisis-detection',
      schedule: config.EARSHOT_CRISIS_CRON,
      run: async ({ db, scheduledFor }) =>
        runCrisisDetection(db, {
          now: scheduledFor,
          thresholds: thresholdsFromConfig(config),
          routing: routingFromConfig(config),
        }),
    },
    ...digestJobs(config),
  ];
  return jobs;
}
