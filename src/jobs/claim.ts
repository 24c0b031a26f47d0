import { and, eq, gt, lt, lte, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { jobRuns } from '../db/schema/index.js';

export type ClaimResult = 'claimed' | 'claimed_elsewhere' | 'skipped_overlap';

export interface Claim {
  result: ClaimResult;
  /** Runs of this job found `running` past staleAfterMs (their runner died mid-run), now marked `abandoned`. */
  abandoned: number;
}

/**
 * Claims one tick of a job for this runner. The (job, scheduled_for) primary key lets exactly one
 * replica insert the tick; a per-job transaction-scoped advisory lock serialises claims, so the
 * check "is an earlier run of this job still going?" cannot race with another replica's claim. A tick
 * that would overlap a live run is recorded as `skipped_overlap` rather than run. A run still
 * `running` after `staleAfterMs` is taken for dead (its replica went away mid-run) and closed as
 * `abandoned`, so it neither blocks the job nor stays in the history as running forever.
 */
export async function claimTick(
  db: Database,
  input: { job: string; scheduledFor: Date; runner: string; staleAfterMs: number; now: Date },
): Promise<Claim> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`earshot:job:${input.job}`}))`);
    const staleBefore = new Date(input.now.getTime() - input.staleAfterMs);
    // Both statements read only this job's running rows (job_runs_running_idx).
    const abandoned = await tx
      .update(jobRuns)
      .set({
        status: 'abandoned',
        finishedAt: input.now,
        error: `no result within ${Math.round(input.staleAfterMs / 1000)} s; its runner is taken for dead`,
      })
      .where(and(eq(jobRuns.job, input.job), eq(jobRuns.status, 'running'), lte(jobRuns.startedAt, staleBefore)))
      .returning({ scheduledFor: jobRuns.scheduledFor });
    const [live] = await tx
      .select({ scheduledFor: jobRuns.scheduledFor })
      .from(jobRuns)
      .where(and(eq(jobRuns.job, input.job), eq(jobRuns.status, 'running'), gt(jobRuns.startedAt, staleBefore)))
      .limit(1);
    const status = live ? 'skipped_overlap' : 'running';
    const inserted = await tx
      .insert(jobRuns)
      .values({
        job: input.job,
        scheduledFor: input.scheduledFor,
        runner: input.runner,
        status,
        startedAt: input.now,
        ...(live ? { finishedAt: input.now, durationMs: 0 } : {}),
      })
      .onConflictDoNothing()
      .returning({ status: jobRuns.status });
    const result: ClaimResult = inserted.length === 0 ? 'claimed_elsewhere' : live ? 'skipped_overlap' : 'claimed';
    return { result, abandoned: abandoned.length };
  });
}

/** Records how a claimed run ended. */
export async function finishRun(
  db: Database,
  input: {
    job: string;
    scheduledFor: Date;
    status: 'succeeded' | 'failed';
    durationMs: number;
    error?: string;
    now: Date;
  },
): Promise<void> {
  await db
    .update(jobRuns)
    .set({
      status: input.status,
      finishedAt: input.now,
      durationMs: input.durationMs,
      error: input.error ?? null,
    })
    .where(and(eq(jobRuns.job, input.job), eq(jobRuns.scheduledFor, input.scheduledFor)));
}

/** Drops job history older than `before` (the retention job keeps the table small). */
export async function pruneJobRuns(db: Database, before: Date): Promise<number> {
  const rows = await db.delete(jobRuns).where(lt(jobRuns.scheduledFor, before)).returning({ job: jobRuns.job });
  return rows.length;
}
