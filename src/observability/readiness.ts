import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';
import type { ReadinessCheck } from '../http/probes.js';

interface JournalEntry {
  idx: number;
  when: number;
  tag: string;
}

/** The migrations this build ships, from drizzle-kit's journal (`migrations/meta/_journal.json`). */
export function readMigrationJournal(migrationsFolder: string): JournalEntry[] {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: JournalEntry[];
  };
  return journal.entries;
}

/**
 * `migrations`: the database has every migration this build ships. drizzle's migrator records each
 * applied migration's journal timestamp in `drizzle.__drizzle_migrations` and applies those newer
 * than the latest recorded, so the latest recorded must reach the journal's latest. A database
 * ahead of this build (a newer replica migrated it during a rolling deploy) is ready.
 */
export function migrationsCheck(db: Database, migrationsFolder: string): ReadinessCheck {
  const entries = readMigrationJournal(migrationsFolder);
  const latest = entries.reduce((max, entry) => Math.max(max, entry.when), 0);
  return {
    name: 'migrations',
    check: async () => {
      const [row] = rowsOf<{ latest: string | number | null; applied: string | number }>(
        await db.execute(sql`select max(created_at) as latest, count(*) as applied from drizzle.__drizzle_migrations`),
      );
      const applied = Number(row?.applied ?? 0);
      const recorded = Number(row?.latest ?? 0);
      const missing = entries.filter((entry) => entry.when > recorded);
      if (recorded < latest) {
        throw new Error(
          `${missing.length} of ${entries.length} migrations not applied (first missing: ${missing[0]?.tag}); run npm run db:migrate or restart a replica`,
        );
      }
      return `${applied} applied`;
    },
  };
}

/** The part of the Web API client the Slack check calls. */
export interface AuthTester {
  auth: { test: () => Promise<{ ok?: boolean; team?: string; user_id?: string }> };
}

/**
 * `slack`: the bot token is valid (`auth.test`), asked at most once per `ttlMs` per replica. Only a
 * refusal from Slack (invalid_auth, token_revoked, account_inactive, …) makes the replica unready:
 * Slack being unreachable or rate limiting says nothing about this replica, and taking every
 * replica out of the load balancer then would also stop the webhooks, which the outbox buffers.
 */
export function slackAuthCheck(
  client: AuthTester,
  options: { ttlMs?: number; timeoutMs?: number; now?: () => number } = {},
): ReadinessCheck {
  const ttlMs = options.ttlMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const now = options.now ?? Date.now;
  let cached: { at: number; outcome: Promise<string> } | null = null;

  const ask = async (): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const result = await Promise.race([client.auth.test(), timeout]);
      return `bot ${result.user_id ?? '?'} in ${result.team ?? 'the workspace'}`;
    } catch (err) {
      const e = err as { code?: string; data?: { error?: string }; message?: string };
      if (e.code === 'slack_webapi_platform_error' && e.data?.error !== 'ratelimited') {
        throw new Error(`Slack refused the bot token: ${e.data?.error ?? 'unknown_error'}`);
      }
      return `not verified: Slack did not answer auth.test (${e.data?.error ?? e.code ?? e.message ?? 'error'})`;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    name: 'slack',
    check: () => {
      if (!cached || now() - cached.at >= ttlMs) {
        const outcome = ask();
        cached = { at: now(), outcome };
        // A failed answer is kept for the TTL too: a revoked token does not heal by asking more often.
        outcome.catch(() => {});
      }
      return cached.outcome;
    },
  };
}

/** The part of X ingestion the stream check reads. */
export interface StreamStatus {
  status: () => { leader: boolean; connected: boolean };
}

/**
 * `x_stream` (stream mode): the replica holding the stream lease has the stream connected; the
 * other replicas are standbys and ready. Set the probe's failure threshold to ride out a reconnect.
 */
export function xStreamCheck(x: StreamStatus): ReadinessCheck {
  return {
    name: 'x_stream',
    check: async () => {
      const { leader, connected } = x.status();
      if (!leader) return 'standby (another replica holds the stream)';
      if (!connected) throw new Error('this replica holds the X stream lease but the stream is not connected');
      return 'connected';
    },
  };
}
