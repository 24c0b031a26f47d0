import { sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';

/** Runs a report's reads, each on a connection that sees the report's one snapshot. */
export interface ReportLanes {
  run<T>(read: (tx: Database) => Promise<T>): Promise<T>;
}

/** Connections a report reads on at once (PostgreSQL); PGlite is one connection and reads in turn. */
const LANES = 3;

/**
 * Settings local to a report's transaction. Each statement reads a few thousand rows at most, so
 * parallel workers and JIT compilation cost more than they save; and each is planned for its own
 * period and buckets (a generic plan of a prepared statement cannot see which index range is small).
 */
async function tuneForReport(tx: Database): Promise<void> {
  await tx.execute(sql`
    select set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true),
           set_config('plan_cache_mode', 'force_custom_plan', true)`);
}

const READ_ONLY_SNAPSHOT = { isolationLevel: 'repeatable read', accessMode: 'read only' } as const;

/** postgres.js can hold several transactions at once; PGlite (one connection) would deadlock. */
function hasConnectionPool(db: Database): boolean {
  return typeof (db as { $client?: unknown }).$client === 'function';
}

/**
 * Runs `body` in a REPEATABLE READ, read-only transaction; on PostgreSQL its reads are spread over a
 * few more transactions that import its snapshot (pg_export_snapshot), so every read, on whichever
 * connection, sees the same committed state. A lane that cannot start leaves its work to the others.
 */
export async function withReportLanes<T>(
  db: Database,
  body: (lanes: ReportLanes) => Promise<T>,
  options: { lanes?: number } = {},
): Promise<T> {
  const count = options.lanes ?? LANES;
  return db.transaction(async (main) => {
    await tuneForReport(main);
    const queue: {
      read: (tx: Database) => Promise<unknown>;
      done: (value: unknown) => void;
      fail: (e: unknown) => void;
    }[] = [];
    const waiting: (() => void)[] = [];
    let closed = false;
    const next = async () => {
      for (;;) {
        const task = queue.shift();
        if (task || closed) return task;
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    };
    const work = async (tx: Database) => {
      for (let task = await next(); task; task = await next()) {
        try {
          task.done(await task.read(tx));
        } catch (error) {
          task.fail(error);
        }
      }
    };
    const lanes: ReportLanes = {
      run: <R>(read: (tx: Database) => Promise<R>) =>
        new Promise<R>((done, fail) => {
          queue.push({ read, done: done as (value: unknown) => void, fail });
          for (const wake of waiting.splice(0)) wake();
        }),
    };

    const started: Promise<void>[] = [];
    if (count > 1 && hasConnectionPool(db)) {
      const [exported] = rowsOf<{ id: string }>(await main.execute(sql`select pg_export_snapshot() as id`));
      const snapshot = exported?.id ?? '';
      for (let i = 1; i < count && /^[0-9A-F-]+$/i.test(snapshot); i += 1) {
        db.transaction(async (tx) => {
          if (closed) return;
          const running = (async () => {
            await tx.execute(sql.raw(`set transaction snapshot '${snapshot}'`));
            await tuneForReport(tx);
            await work(tx);
          })();
          started.push(running.catch(() => {}));
          await running;
        }, READ_ONLY_SNAPSHOT).catch(() => {});
      }
    }
    const mainLane = work(main);
    try {
      return await body(lanes);
    } finally {
      closed = true;
      for (const wake of waiting.splice(0)) wake();
      await mainLane;
      await Promise.all(started);
    }
  }, READ_ONLY_SNAPSHOT);
}
