import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';

/** What a job's run receives. */
export interface JobContext {
  db: Database;
  logger: Logger;
  /** The cron tick this run belongs to (identical on every replica). */
  scheduledFor: Date;
  /** The wall clock; jobs read time through this so tests can pin it. */
  now: () => Date;
}

/**
 * Scheduled work declared as data: a name, a cron pattern (5 fields, or 6 with seconds) and what to
 * do. The scheduler makes each tick run once across replicas and never overlap itself.
 */
export interface JobDefinition {
  name: string;
  schedule: string;
  /** IANA time zone the cron pattern is read in; UTC by default. */
  timezone?: string;
  /** A `running` row older than this no longer blocks the next tick (its runner died). Default 15 min. */
  staleAfterMs?: number;
  /** May resolve to a small summary object, which is logged with the run. */
  run: (ctx: JobContext) => Promise<unknown>;
}

/** What happened to one tick on this replica. */
export type TickOutcome = 'succeeded' | 'failed' | 'claimed_elsewhere' | 'skipped_overlap' | 'stopping';
