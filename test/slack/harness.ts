import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { expect } from 'vitest';
import { type Earshot, startEarshot } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { rowsOf } from '../../src/db/database.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { type ModuleFactory, requireService } from '../../src/module.js';
import { createSlackSandbox, type SlackSandbox } from '../../src/sandbox/index.js';
import { SLASH_COMMAND } from '../../src/slack/ids.js';
import { type SlackModuleOptions, type SlackService, slackModule } from '../../src/slack/module.js';

export const SIGNING_SECRET = 'sandbox-signing-secret';
export const BOT_TOKEN = 'xoxb-sandbox-token';

export interface SlackHarness {
  earshot: Earshot;
  sandbox: SlackSandbox;
  slack: SlackService;
  /** Runs delivery rounds until no outbox row is pending (or `timeoutMs` passes). */
  drain: (timeoutMs?: number) => Promise<void>;
  pendingCount: () => Promise<number>;
  close: () => Promise<void>;
}

interface HarnessOptions {
  databaseUrl?: string;
  /** `postgres`: a fresh database on the TEST_DATABASE_URL server, dropped by `close()`. Default: PGlite. */
  database?: 'pglite' | 'postgres';
  env?: Record<string, string>;
  module?: SlackModuleOptions;
  logger?: Logger;
  /** One clock for the sandbox (its call times, rate limiter) and the delivery worker: tests move it. */
  clock?: () => number;
  /** Modules started before the Slack module (e.g. triage) and after it (e.g. ingest), as in src/modules.ts. */
  modules?: { before?: readonly ModuleFactory[]; after?: readonly ModuleFactory[] };
  /** Runs once the sandbox listens and before Earshot starts (e.g. to enable Socket Mode). */
  beforeStart?: (sandbox: SlackSandbox) => void;
}

/**
 * Earshot with only its Slack module, talking to a sandbox Slack over real HTTP: signed requests in
 * through Bolt's HTTPReceiver, Web API calls out to the sandbox. Delivery runs when the test says.
 */
export async function startSlackHarness(options: HarnessOptions = {}): Promise<SlackHarness> {
  const created = options.database === 'postgres' ? await createPostgresDatabase() : null;
  try {
    const harness = await startHarness(created ? { ...options, databaseUrl: created.url } : options);
    if (!created) return harness;
    return {
      ...harness,
      close: async () => {
        await harness.close();
        await created.drop();
      },
    };
  } catch (err) {
    await created?.drop();
    throw err;
  }
}

async function startHarness(options: HarnessOptions): Promise<SlackHarness> {
  const logger = options.logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let earshot: Earshot | undefined;
  const sandbox = createSlackSandbox({
    signingSecret: SIGNING_SECRET,
    botToken: BOT_TOKEN,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    appEventsUrl: () => {
      if (!earshot) throw new Error('Earshot is not listening yet');
      return `${earshot.http.url}/slack/events`;
    },
  });
  await sandbox.listen();
  options.beforeStart?.(sandbox);
  const config = loadConfig({
    PORT: '0',
    EARSHOT_DATA_DIR: 'memory://',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: sandbox.apiUrl(),
    EARSHOT_ADMINS: '',
    ...options.env,
  });
  earshot = await startEarshot(config, logger, {
    modules: [
      ...(options.modules?.before ?? []),
      slackModule({
        processBeforeResponse: true,
        clientRetries: 0,
        startDelivery: false,
        ...options.module,
        delivery: {
          pollIntervalMs: 20,
          backoff: { baseMs: 20, maxMs: 100 },
          pacing: { ratePerSecond: 50, burst: 10 },
          ...(options.clock ? { clock: options.clock } : {}),
          ...options.module?.delivery,
        },
      }),
      ...(options.modules?.after ?? []),
    ],
  });
  const slack = requireService<SlackService>(earshot.context, 'slack');
  const db = earshot.context.db;
  const pendingCount = async () =>
    rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from outbox where status = 'pending'`))[0]
      ?.n ?? 0;
  const drain = async (timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await slack.delivery.runOnce();
      if ((await pendingCount()) === 0) return;
      if (Date.now() > deadline) throw new Error(`outbox still has ${await pendingCount()} pending rows`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return {
    earshot,
    sandbox,
    slack,
    drain,
    pendingCount,
    close: async () => {
      await earshot?.stop();
      await sandbox.close();
    },
  };
}

/** Collects the JSON log lines of a logger, so a test can read what the app said. */
export function logSink(level = 'info'): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ level, destination: stream }) };
}

/** A fresh database on the TEST_DATABASE_URL server, for tests that need real row locks. */
export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `earshot_slack_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

/**
 * A clock that runs with real time plus whatever a test adds: never behind the database's own
 * now() (rows are inserted with it), and an hour passes in one call.
 */
export function shiftableClock(): { now: () => number; advance: (ms: number) => void; offsetMs: () => number } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms;
    },
    offsetMs: () => offset,
  };
}

/**
 * Runs `/earshot <text>` as `user` in `channel` through the real receiver and returns the one
 * private answer it got: its text, and its blocks as JSON (`[]` without blocks).
 */
export async function privateAnswer(
  h: SlackHarness,
  user: string,
  text: string,
  channel: string,
): Promise<{ text: string; json: string }> {
  const session = h.sandbox.as(user);
  const before = session.ephemerals(channel).length;
  const delivery = await session.runCommand(SLASH_COMMAND, text, { channel });
  expect(delivery.status).toBe(200);
  const seen = session.ephemerals(channel).slice(before);
  expect(seen).toHaveLength(1);
  return { text: seen[0]?.text ?? '', json: JSON.stringify(seen[0]?.blocks ?? []) };
}
