import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Database } from './database.js';
import * as schema from './schema/index.js';

export interface DatabaseHandle {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** Runs the migrations folder under a lock, so replicas starting together apply it once. */
  migrate: () => Promise<void>;
  /** A cheap round trip, for readiness probes. */
  ping: () => Promise<void>;
  /**
   * Hears every NOTIFY on `channel`, from any connection of any replica, once it committed; resolves
   * once listening, with the way to stop. A lost connection loses what was sent while it was down,
   * so `onListen` runs each time listening (re)starts: caches drop everything there.
   */
  listen: (channel: string, onNotify: (payload: string) => void, onListen: () => void) => Promise<Unlisten>;
  close: () => Promise<void>;
}

export type Unlisten = () => Promise<void>;

export interface OpenDatabaseOptions {
  /** postgres://… for a server; unset for the embedded PGlite database. */
  url?: string | undefined;
  /** PGlite data directory, or `memory://` for a throwaway database. */
  dataDir: string;
  migrationsFolder: string;
  /** postgres.js pool size. */
  maxConnections?: number;
}

/** Arbitrary but fixed: the advisory lock key that serialises migrations across replicas. */
const MIGRATION_LOCK_KEY = 7_424_051_001;

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  return options.url ? openPostgres(options.url, options) : openPglite(options);
}

async function openPglite(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const memory = options.dataDir.startsWith('memory://');
  if (!memory) mkdirSync(options.dataDir, { recursive: true });
  // pg_trgm serves `/earshot find` (migration 0011); a server has it in contrib, PGlite as a bundle.
  const extensions = { pg_trgm };
  const client = memory ? new PGlite({ extensions }) : new PGlite(options.dataDir, { extensions });
  await client.waitReady;
  const db = drizzlePglite({ client, schema }) as unknown as Database;
  return {
    db,
    kind: 'pglite',
    // One process owns a PGlite directory, so there is no one to race with.
    migrate: async () => {
      const { migrate } = await import('drizzle-orm/pglite/migrator');
      await migrate(drizzlePglite({ client, schema }), { migrationsFolder: options.migrationsFolder });
    },
    ping: async () => {
      await client.query('select 1');
    },
    // One in-process database: its connection never drops, so listening starts once.
    listen: async (channel, onNotify, onListen) => {
      const unlisten = await client.listen(channel, onNotify);
      onListen();
      return () => unlisten();
    },
    close: async () => {
      await client.close();
    },
  };
}

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const client = postgres(url, {
    max: options.maxConnections ?? 10,
    onnotice: () => {},
    // Timestamps stay Date objects; bigints that fit come back as numbers through drizzle's mode.
    connection: { application_name: 'earshot' },
  });
  const db = drizzlePostgres({ client: preparedByDefault(client), schema }) as unknown as Database;
  return {
    db,
    kind: 'postgres',
    migrate: () => migratePostgres(url, options.migrationsFolder),
    ping: async () => {
      await client`select 1`;
    },
    // postgres.js listens on a connection of its own, outside the pool, and listens again after it
    // reconnects, calling `onListen` each time.
    listen: async (channel, onNotify, onListen) => {
      const request = await client.listen(channel, onNotify, onListen);
      return () => request.unlisten();
    },
    close: async () => {
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * drizzle sends every query it builds unprepared, which costs postgres.js a Describe round trip and
 * the server a parse and plan per query; prepared (postgres.js keeps them per connection, keyed by
 * the text, and re-prepares after a schema change) a query is one round trip. Transactions and
 * savepoints hand their own client to the callback, so those are wrapped too.
 */
function preparedByDefault<T extends postgres.Sql | postgres.TransactionSql>(sql: T): T {
  return new Proxy(sql, {
    get(target, key, receiver) {
      if (key === 'unsafe') {
        return (query: string, params?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) =>
          target.unsafe(query, params, { ...options, prepare: true });
      }
      if (key === 'begin' || key === 'savepoint') {
        return (...args: unknown[]) => {
          const callback = args.pop() as (tx: postgres.TransactionSql) => unknown;
          const open = Reflect.get(target, key, receiver) as (...a: unknown[]) => unknown;
          return open.call(target, ...args, (tx: postgres.TransactionSql) => callback(preparedByDefault(tx)));
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

/**
 * drizzle's migrator takes no lock of its own; a dedicated one-connection client holds a
 * session advisory lock for the whole run, so two replicas starting at once apply each migration once.
 */
async function migratePostgres(url: string, migrationsFolder: string): Promise<void> {
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migrate(drizzlePostgres({ client }), { migrationsFolder });
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}
