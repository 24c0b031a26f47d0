import { Writable } from 'node:stream';
import { asc, eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { rowsOf } from '../../src/db/database.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';
import { jobRuns } from '../../src/db/schema/index.js';
import { createJobScheduler } from '../../src/jobs/scheduler.js';
import type { JobDefinition } from '../../src/jobs/types.js';
import { createLogger } from '../../src/logger.js';
import { describeEachDatabase } from '../helpers/database.js';

const logger = createLogger({ level: 'silent' });

/** Collects the JSON log lines of a logger, so a test can read what the scheduler said. */
function logSink() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describeEachDatabase('job scheduler on one database', (handle) => {
  it('records a run with its outcome and duration, and a failing run with its error', async () => {
    const { db } = handle();
    const ran: Date[] = [];
    const jobs: JobDefinition[] = [
      { name: 'ok-job', schedule: '* * * * *', run: async ({ scheduledFor }) => void ran.push(scheduledFor) },
      {
        name: 'bad-job',
        schedule: '* * * * *',
        run: async () => {
          throw new Error('boom');
        },
      },
    ];
    const scheduler = createJobScheduler({ db, logger, runner: 'r1', jobs });
    const tick = new Date('2026-01-05T10:00:00.000Z');
    expect(await scheduler.runTick('ok-job', tick)).toBe('succeeded');
    expect(await scheduler.runTick('ok-job', tick)).toBe('claimed_elsewhere');
    expect(await scheduler.runTick('bad-job', tick)).toBe('failed');
    expect(ran).toEqual([tick]);
    const rows = await db.select().from(jobRuns).orderBy(asc(jobRuns.job));
    expect(rows.map((r) => [r.job, r.status, r.error])).toEqual([
      ['bad-job', 'failed', 'boom'],
      ['ok-job', 'succeeded', null],
    ]);
    expect(rows.every((r) => r.durationMs !== null && r.finishedAt !== null)).toBe(true);
  });

  it('skips a tick while the previous run of the same job is still going, and stop waits for it', async () => {
    const { db } = handle();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let runs = 0;
    const job: JobDefinition = {
      name: 'slow-job',
      schedule: '* * * * *',
      run: async () => {
        runs += 1;
        await gate;
      },
    };
    const a = createJobScheduler({ db, logger, runner: 'a', jobs: [job] });
    const first = a.runTick('slow-job', new Date('2026-01-05T10:00:00Z'));
    // Wait until the first run has claimed its tick.
    for (let i = 0; i < 200 && runs === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await a.runTick('slow-job', new Date('2026-01-05T10:01:00Z'))).toBe('skipped_overlap');
    const stopped = a.stop();
    release();
    await stopped;
    expect(await first).toBe('succeeded');
    expect(runs).toBe(1);
  });
  it('runs a job now once the run going when asked (which may have started too early) has ended', async () => {
    const { db } = handle();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let runs = 0;
    let runsAfterRelease = 0;
    let released = false;
    const job: JobDefinition = {
      name: 'check-now-job',
      schedule: '* * * * *',
      run: async () => {
        runs += 1;
        if (released) runsAfterRelease += 1;
        else await gate;
      },
    };
    const cron = createJobScheduler({ db, logger, runner: 'cron', jobs: [job] });
    const caller = createJobScheduler({ db, logger, runner: 'caller', jobs: [job] });
    const scheduled = cron.runTick('check-now-job', new Date());
    for (let i = 0; i < 200 && runs === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const now = caller.runNow('check-now-job');
    // It is still waiting for the scheduled run, on the other replica, to end.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(runsAfterRelease).toBe(0);
    released = true;
    release();
    expect(await scheduled).toBe('succeeded');
    expect(await now).toBe('succeeded');
    expect(runsAfterRelease).toBe(1);
    const statuses = (await db.select().from(jobRuns).where(eq(jobRuns.job, 'check-now-job'))).map((r) => r.status);
    expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(2);
    expect(statuses).toContain('skipped_overlap');
  });

  it('closes a run left running by a replica that died as abandoned, and runs the next tick', async () => {
    const { db } = handle();
    const now = new Date('2026-02-01T12:00:00Z');
    const sink = logSink();
    await db.insert(jobRuns).values({
      job: 'orphaned-job',
      scheduledFor: new Date('2026-02-01T11:40:00Z'),
      runner: 'replica-that-died',
      status: 'running',
      startedAt: new Date('2026-02-01T11:40:01Z'),
    });
    let runs = 0;
    const scheduler = createJobScheduler({
      db,
      logger: sink.logger,
      runner: 'r2',
      now: () => now,
      jobs: [
        {
          name: 'orphaned-job',
          schedule: '* * * * *',
          run: async () => {
            runs += 1;
          },
        },
      ],
    });
    expect(await scheduler.runTick('orphaned-job', new Date('2026-02-01T12:00:00Z'))).toBe('succeeded');
    expect(runs).toBe(1);
    const rows = await db
      .select()
      .from(jobRuns)
      .where(eq(jobRuns.job, 'orphaned-job'))
      .orderBy(asc(jobRuns.scheduledFor));
    expect(rows.map((r) => [r.runner, r.status])).toEqual([
      ['replica-that-died', 'abandoned'],
      ['r2', 'succeeded'],
    ]);
    expect(rows[0]!.finishedAt).toEqual(now);
    expect(rows[0]!.error).toContain('taken for dead');
    expect(sink.lines.some((l) => l.level === 40 && l.job === 'orphaned-job' && l.abandoned === 1)).toBe(true);
  });

  it('logs a failing run with its error and keeps scheduling it and the other jobs (real node-cron)', async () => {
    const { db } = handle();
    const sink = logSink();
    let good = 0;
    let bad = 0;
    const scheduler = createJobScheduler({
      db,
      logger: sink.logger,
      runner: 'r3',
      jobs: [
        {
          name: 'cron-bad',
          schedule: '* * * * * *',
          run: async () => {
            bad += 1;
            throw new Error(`boom ${bad}`);
          },
        },
        {
          name: 'cron-good',
          schedule: '* * * * * *',
          run: async () => {
            good += 1;
          },
        },
      ],
    });
    scheduler.start();
    try {
      for (let i = 0; i < 100 && (bad < 2 || good < 2); i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await scheduler.stop();
    }
    expect(bad).toBeGreaterThanOrEqual(2);
    expect(good).toBeGreaterThanOrEqual(2);
    const failures = sink.lines.filter((l) => l.msg === 'job run failed');
    expect(failures.length).toBe(bad);
    expect(failures[0]).toMatchObject({ level: 50, job: 'cron-bad', err: { message: 'boom 1' } });
    expect(typeof failures[0]!.durationMs).toBe('number');
    const rows = await db.select().from(jobRuns).where(eq(jobRuns.job, 'cron-bad'));
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => 'failed'));
    expect(rows.map((r) => r.error).sort()).toEqual(Array.from({ length: bad }, (_, i) => `boom ${i + 1}`).sort());
  });
});

describeEachDatabase(
  'two schedulers (replicas) against one PostgreSQL',
  (handle) => {
    it('run each tick of each job exactly once when both fire every tick at the same moment', async () => {
      const { db } = handle();
      // A second connection pool stands in for the second replica.
      const other = await openSecondHandle();
      try {
        const runsBy = new Map<string, number>();
        const makeJobs = (replica: string): JobDefinition[] =>
          ['sweep', 'detect'].map((name) => ({
            name,
            schedule: '* * * * *',
            run: async ({ scheduledFor }) => {
              const key = `${name}@${scheduledFor.toISOString()}`;
              runsBy.set(key, (runsBy.get(key) ?? 0) + 1);
              runsBy.set(`by:${replica}`, (runsBy.get(`by:${replica}`) ?? 0) + 1);
            },
          }));
        const a = createJobScheduler({ db, logger, runner: 'replica-a', jobs: makeJobs('a') });
        const b = createJobScheduler({ db: other.db, logger, runner: 'replica-b', jobs: makeJobs('b') });
        const ticks = Array.from({ length: 20 }, (_, i) => new Date(Date.UTC(2026, 0, 5, 10, i)));
        for (const tick of ticks) {
          const outcomes = await Promise.all(
            ['sweep', 'detect'].flatMap((name) => [a.runTick(name, tick), b.runTick(name, tick)]),
          );
          expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(2);
          expect(outcomes.filter((o) => o === 'claimed_elsewhere')).toHaveLength(2);
        }
        for (const tick of ticks) {
          expect(runsBy.get(`sweep@${tick.toISOString()}`)).toBe(1);
          expect(runsBy.get(`detect@${tick.toISOString()}`)).toBe(1);
        }
        const rows = await db.select().from(jobRuns).where(eq(jobRuns.status, 'succeeded'));
        expect(rows).toHaveLength(40);
        await Promise.all([a.stop(), b.stop()]);
      } finally {
        await other.close();
      }
    });

    it('run each real node-cron tick once across both schedulers', async () => {
      const { db } = handle();
      const other = await openSecondHandle();
      try {
        const ticks: string[] = [];
        const job = (): JobDefinition => ({
          name: 'every-second',
          schedule: '* * * * * *',
          run: async ({ scheduledFor }) => void ticks.push(scheduledFor.toISOString()),
        });
        const a = createJobScheduler({ db, logger, runner: 'replica-a', jobs: [job()] });
        const b = createJobScheduler({ db: other.db, logger, runner: 'replica-b', jobs: [job()] });
        a.start();
        b.start();
        for (let i = 0; i < 100; i++) {
          const rows = await db.select().from(jobRuns).where(eq(jobRuns.job, 'every-second'));
          if (rows.filter((r) => r.status === 'succeeded').length >= 3) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await Promise.all([a.stop(), b.stop()]);
        const rows = await db.select().from(jobRuns).where(eq(jobRuns.job, 'every-second'));
        const succeeded = rows.filter((r) => r.status === 'succeeded');
        expect(succeeded.length).toBeGreaterThanOrEqual(3);
        expect(new Set(ticks).size).toBe(ticks.length);
        expect(ticks.length).toBe(succeeded.length);
        expect(new Set(succeeded.map((r) => r.runner)).size).toBeGreaterThanOrEqual(1);
      } finally {
        await other.close();
      }
    });

    /** Opens another pool on the same database as `handle()`: what a second replica would hold. */
    async function openSecondHandle() {
      const [row] = rowsOf<{ name: string }>(await handle().db.execute(sql`select current_database() as name`));
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.pathname = `/${row!.name}`;
      return openDatabase({ url: url.toString(), dataDir: 'unused', migrationsFolder: MIGRATIONS_FOLDER });
    }
  },
  ['postgres'],
);
