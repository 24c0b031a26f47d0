import type { ModuleFactory } from '../module.js';
import { metricsOf } from '../observability/metrics.js';
import { buildJobs } from './catalog.js';
import { createJobScheduler, type JobScheduler } from './scheduler.js';

/**
 * Runs Earshot's scheduled jobs on every replica; the job_runs claim makes each tick run on one.
 * Registers the scheduler as the `jobs` service so a command or test can run a tick by hand.
 */
export const jobsModule: ModuleFactory = (ctx) => {
  const scheduler: JobScheduler = createJobScheduler({
    db: ctx.db,
    logger: ctx.logger,
    runner: ctx.instanceId,
    jobs: buildJobs(ctx.config, metricsOf(ctx.services), ctx.database.kind),
  });
  ctx.services.set('jobs', scheduler);
  return {
    name: 'jobs',
    start: async () => scheduler.start(),
    stop: () => scheduler.stop(),
  };
};
