import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/database.js';
import type { Sealer } from '../../src/db/sealed.js';
import { type HttpServer, startHttpServer } from '../../src/http/server.js';
import { createIngestPipeline, type IngestPipeline, type PipelineOptions } from '../../src/ingest/pipeline.js';
import { webhookRoutes } from '../../src/ingest/webhook.js';
import type { BackoffPolicy } from '../../src/ingest/x/backoff.js';
import { createXAppClient, createXUserClient } from '../../src/ingest/x/client.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { assessmentFixture } from '../helpers/fixtures.js';

export const silentLogger = createLogger({ level: 'silent' });

/** X's backoff shape at a hundredth of the scale, so reconnect tests take milliseconds. */
export const FAST_BACKOFF: BackoffPolicy = {
  networkStepMs: 10,
  networkMaxMs: 50,
  httpBaseMs: 20,
  httpMaxMs: 100,
  rateLimitBaseMs: 20,
  rateLimitMaxMs: 100,
};

export const FAST_TIMINGS = {
  backoff: FAST_BACKOFF,
  keepAliveTimeoutMs: 1_000,
  leaseTtlMs: 1_000,
  leaseRenewMs: 50,
  pollIntervalMs: 60_000,
};

/** The ingest pipeline with a hand-written triage result: the input the triage engine would give. */
export function testPipeline(db: Database) {
  return createIngestPipeline({
    db,
    logger: silentLogger,
    assess: async (item) => assessmentFixture({ priority: item.text.includes('outage') ? 'P1' : 'P3' }),
    groupingWindowMinutes: 0,
    maxTextLength: 20_000,
    sweepIntervalMs: 60_000,
  });
}

/** The signed webhook route (4 KiB limit) on a local HTTP server, over a pipeline with the given triage. */
export async function startWebhookServer(
  db: Database,
  logger: Logger,
  triage: Pick<PipelineOptions, 'assess'>,
  sealer: Sealer | null = null,
): Promise<{ pipeline: IngestPipeline; http: HttpServer }> {
  const pipeline = createIngestPipeline({ db, logger, groupingWindowMinutes: 60, maxTextLength: 2_000, ...triage });
  const http = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    logger,
    routes: webhookRoutes({ sealer, db, pipeline, logger, maxBytes: 4_096 }),
  });
  return { pipeline, http };
}

export function xClients(url: string) {
  const config = {
    X_API_URL: url,
    X_BEARER_TOKEN: 'test-bearer',
    X_API_KEY: 'key',
    X_API_SECRET: 'secret',
    X_ACCESS_TOKEN: 'token',
    X_ACCESS_SECRET: 'token-secret',
    X_OAUTH2_USER_TOKEN: undefined,
    X_OAUTH2_CLIENT_ID: undefined,
    X_OAUTH2_CLIENT_SECRET: undefined,
    X_OAUTH2_REFRESH_TOKEN: undefined,
  };
  return { app: createXAppClient(config)!, user: createXUserClient(config)! };
}

/** Polls a condition until it holds; fails with the message after the timeout. */
export async function waitFor(check: () => boolean | Promise<boolean>, message: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting: ${message}`);
}

/** A logger whose JSON lines a test can read: what the code said, at `level` and above. */
export function capturedLogger(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ level, destination }) };
}

/**
 * Makes the test database refuse to store any item whose text contains a marker, as a full disk
 * or a failing constraint would: a real trigger on `items`, not a stand-in for our code.
 */
export async function installItemRefusal(db: Database) {
  await db.execute(sql`create table if not exists test_refused_markers (marker text primary key)`);
  await db.execute(sql`
    create or replace function test_refuse_item() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from test_refused_markers m where position(m.marker in new.text) > 0) then
        raise exception 'test: the database refuses item %', new.external_id;
      end if;
      return new;
    end $$`);
  await db.execute(sql`drop trigger if exists test_refuse_item on items`);
  await db.execute(
    sql`create trigger test_refuse_item before insert on items for each row execute function test_refuse_item()`,
  );
  return {
    refuse: (marker: string) =>
      db.execute(sql`insert into test_refused_markers values (${marker}) on conflict do nothing`),
    allow: (marker: string) => db.execute(sql`delete from test_refused_markers where marker = ${marker}`),
  };
}
