import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { leases } from '../../db/schema/index.js';

/**
 * Takes or renews a lease: succeeds when nobody holds it, we already hold it, or the holder let it
 * expire. Expiry is judged by the database clock, so replicas with skewed clocks agree.
 */
export async function acquireLease(db: Database, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const expires = sql`now() + (${ttlMs} * interval '1 millisecond')`;
  const rows = await db
    .insert(leases)
    .values({ name, holder, expiresAt: expires })
    .onConflictDoUpdate({
      target: leases.name,
      set: { holder, expiresAt: expires },
      setWhere: sql`${leases.holder} = ${holder} or ${leases.expiresAt} < now()`,
    })
    .returning({ holder: leases.holder });
  return rows[0]?.holder === holder;
}

/** Gives a lease up at once, so another replica need not wait for it to expire. */
export async function releaseLease(db: Database, name: string, holder: string): Promise<void> {
  await db.delete(leases).where(and(eq(leases.name, name), eq(leases.holder, holder)));
}

export interface LeaseKeeperOptions {
  db: Database;
  name: string;
  holder: string;
  ttlMs: number;
  /** How often the holder renews and a standby tries to take over; well under the TTL. */
  renewEveryMs: number;
  /** Runs the leased work; called when the lease is won. */
  onAcquired: () => Promise<void> | void;
  /** Stops the leased work; called when the lease is lost or released. */
  onLost: () => Promise<void> | void;
  onError?: (err: unknown) => void;
}

/**
 * Keeps one replica in charge of work only one may do (the X stream): it renews while it holds the
 * lease, steps down the moment a renewal fails, and a standby takes over once the lease expires.
 */
export function createLeaseKeeper(options: LeaseKeeperOptions) {
  let held = false;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = async () => {
    let won = false;
    try {
      won = await acquireLease(options.db, options.name, options.holder, options.ttlMs);
    } catch (err) {
      options.onError?.(err);
      won = false;
    }
    if (stopped) return;
    if (won && !held) {
      held = true;
      await options.onAcquired();
    } else if (!won && held) {
      held = false;
      await options.onLost();
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((err: unknown) => options.onError?.(err))
        .finally(schedule);
    }, options.renewEveryMs);
  };

  return {
    get held() {
      return held;
    },
    start() {
      stopped = false;
      running = tick()
        .catch((err: unknown) => options.onError?.(err))
        .finally(schedule);
      return running;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      if (held) {
        held = false;
        await options.onLost();
        await releaseLease(options.db, options.name, options.holder).catch((err: unknown) => options.onError?.(err));
      }
    },
  };
}
