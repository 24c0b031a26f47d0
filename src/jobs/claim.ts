import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { jobRuns } from '../db/schema/index.js';

export type ClaimResult = 'claimed' | 'claimed_elsewhere' | 'skipped_overlap';

/**
 * Claims one tick of a job for this runner. The (job, scheduled_for) primary key lets exactly one
 * replica insert the tick; a per-job transaction-scoped advisory lock serialises claims, so the
 * check "is an earlier run of this job still going?" cannot race with another replica's claim. A tick
 * that would overlap a live run is recorded as `skipped_overlap` rather than run.
 */
export async function claimTick(
  db: Database,
  input: { job: string; scheduledFor: Date; runner: string; staleAfterMs: number; now: Date },
): Promise<ClaimResult> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`earshot:job:${input.job}`}))`);
    const staleBefore = new Date(input.now.getTime() - input.staleAfterMs);
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
    if (inserted.length === 0) return 'claimed_elsewhere';
    return live ? 'skipped_overlap' : 'claimed';
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
