import { createTask, type ScheduledTask, validate } from 'node-cron';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { claimTick, finishRun } from './claim.js';
import type { JobDefinition, TickOutcome } from './types.js';

const DEFAULT_STALE_AFTER_MS = 15 * 60_000;

export interface SchedulerOptions {
  db: Database;
  logger: Logger;
  /** This replica's id, written into job_runs.runner. */
  runner: string;
  jobs: readonly JobDefinition[];
  now?: () => Date;
}

export interface JobScheduler {
  /** Arms a node-cron task per job. */
  start: () => void;
  /** Stops scheduling and waits for the runs in flight on this replica. */
  stop: () => Promise<void>;
  /** Runs one tick of a job as the cron task would: claim, run, log. Exposed for tests and manual runs. */
  runTick: (name: string, scheduledFor: Date) => Promise<TickOutcome>;
  /**
   * Runs a job now, outside its schedule, for a caller that needs it to see what just happened (the
   * demo's burst). A run already going, here or on another replica, may have started before that, so
   * its tick does not count: this waits for it to end and runs one of its own, for up to `timeoutMs`.
   */
  runNow: (name: string, options?: { timeoutMs?: number }) => Promise<TickOutcome>;
}

/** How long `runNow` waits between tries: a new second is a new tick (ticks are named by the second). */
const RUN_NOW_RETRY_MS = 1_000;

/**
 * Runs declared jobs with node-cron. Each tick is claimed in job_runs first (see claimTick), so when
 * several replicas run this scheduler a tick runs on exactly one of them, and a tick that arrives while
 * the previous run of the same job is still going on any replica is skipped and recorded.
 */
export function createJobScheduler(options: SchedulerOptions): JobScheduler {
  const now = options.now ?? (() => new Date());
  const logger = options.logger.child({ component: 'jobs' });
  const byName = new Map<string, JobDefinition>();
  for (const job of options.jobs) {
    if (byName.has(job.name)) throw new Error(`job "${job.name}" is declared twice`);
    if (!validate(job.schedule)) throw new Error(`job "${job.name}" has an invalid cron pattern: ${job.schedule}`);
    byName.set(job.name, job);
  }
  const tasks: ScheduledTask[] = [];
  const inFlight = new Set<Promise<TickOutcome>>();
  const runningLocally = new Set<string>();
  let stopping = false;

  async function tick(job: JobDefinition, scheduledFor: Date): Promise<TickOutcome> {
    if (stopping) return 'stopping';
    if (runningLocally.has(job.name)) {
      logger.warn({ job: job.name, scheduledFor }, 'previous run still going on this replica; tick skipped');
      return 'skipped_overlap';
    }
    runningLocally.add(job.name);
    try {
      const claim = await claimTick(options.db, {
        job: job.name,
        scheduledFor,
        runner: options.runner,
        staleAfterMs: job.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
        now: now(),
      });
      if (claim.abandoned > 0) {
        logger.warn(
          { job: job.name, abandoned: claim.abandoned },
          'runs of this job never finished (their replica died mid-run); marked abandoned',
        );
      }
      if (claim.result === 'claimed_elsewhere') return 'claimed_elsewhere';
      if (claim.result === 'skipped_overlap') {
        logger.warn({ job: job.name, scheduledFor }, 'previous run still going on another replica; tick skipped');
        return 'skipped_overlap';
      }
      const started = performance.now();
      try {
        const summary = await job.run({ db: options.db, logger: logger.child({ job: job.name }), scheduledFor, now });
        const durationMs = Math.round(performance.now() - started);
        await finishRun(options.db, { job: job.name, scheduledFor, status: 'succeeded', durationMs, now: now() });
        const fields = summary && typeof summary === 'object' ? summary : {};
        logger.info({ job: job.name, scheduledFor, durationMs, ...fields }, 'job run succeeded');
        return 'succeeded';
      } catch (err) {
        const durationMs = Math.round(performance.now() - started);
        const message = err instanceof Error ? err.message : String(err);
        await finishRun(options.db, {
          job: job.name,
          scheduledFor,
          status: 'failed',
          durationMs,
          error: message.slice(0, 2000),
          now: now(),
        });
        logger.error({ err, job: job.name, scheduledFor, durationMs }, 'job run failed');
        return 'failed';
      }
    } finally {
      runningLocally.delete(job.name);
    }
  }

  function jobNamed(name: string): JobDefinition {
    const job = byName.get(name);
    if (!job) throw new Error(`no job named "${name}"`);
    return job;
  }

  function track(promise: Promise<TickOutcome>): Promise<TickOutcome> {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
    return promise;
  }

  return {
    start() {
      for (const job of byName.values()) {
        const task = createTask(
          job.schedule,
          async (context) => {
            await track(
              tick(job, truncateToSecond(context.date)).catch((err) => {
                // Claiming or recording failed (the database is away): this tick is lost, the next one runs.
                logger.error({ err, job: job.name }, 'job tick failed outside the job');
                return 'failed' as const;
              }),
            );
          },
          { name: `earshot:${job.name}`, timezone: job.timezone ?? 'UTC', noOverlap: true },
        );
        tasks.push(task);
        void task.start();
      }
      logger.info({ jobs: [...byName.keys()] }, 'job scheduler started');
    },
    async stop() {
      stopping = true;
      await Promise.all(tasks.map((task) => task.destroy()));
      tasks.length = 0;
      await Promise.allSettled([...inFlight]);
    },
    runTick(name, scheduledFor) {
      return track(tick(jobNamed(name), truncateToSecond(scheduledFor)));
    },
    async runNow(name, runOptions = {}) {
      const job = jobNamed(name);
      const deadline = performance.now() + (runOptions.timeoutMs ?? 60_000);
      for (;;) {
        // `claimed_elsewhere`: this very second's tick was taken, possibly by a run that began before the call.
        const outcome = await track(tick(job, truncateToSecond(now())));
        if (outcome !== 'skipped_overlap' && outcome !== 'claimed_elsewhere') return outcome;
        if (stopping || performance.now() + RUN_NOW_RETRY_MS > deadline) {
          logger.warn(
            { job: name, outcome },
            'could not run the job now: a run of it kept going; the schedule runs it next',
          );
          return outcome;
        }
        await new Promise((resolve) => setTimeout(resolve, RUN_NOW_RETRY_MS));
      }
    },
  };
}

/** node-cron hands the slot it matched; dropping milliseconds makes every replica name it alike. */
function truncateToSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
