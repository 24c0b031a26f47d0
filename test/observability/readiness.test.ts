import { WebClient } from '@slack/web-api';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/database.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';
import type { IngestService } from '../../src/ingest/module.js';
import { createLogger } from '../../src/logger.js';
import { requireService } from '../../src/module.js';
import { readMigrationJournal, slackAuthCheck } from '../../src/observability/readiness.js';
import { createSlackSandbox, SEED, type SlackSandbox } from '../../src/sandbox/index.js';
import { KINDS, type SandboxApp, startSandboxApp } from '../app/sandbox-helpers.js';
import { FakeXServer } from '../fakes/x-server.js';
import { series, waitUntil, xEnv } from './helpers.js';

interface ReadyAnswer {
  status: string;
  checks: { name: string; ok: boolean; detail?: string; error?: string }[];
}

async function readyz(url: string): Promise<{ status: number; body: ReadyAnswer }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyAnswer };
}

const checkOf = (body: ReadyAnswer, name: string) => body.checks.find((c) => c.name === name);

describe.each(KINDS)('/readyz: every module contributes its checks [%s]', (kind) => {
  let s: SandboxApp;
  let url: string;

  beforeAll(async () => {
    s = await startSandboxApp({ kind });
    url = s.app.http.url;
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  it("answers each check's state: database, migrations applied, the bot token Slack accepts", async () => {
    const { status, body } = await readyz(url);
    expect(status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks.map((c) => c.name)).toEqual(['database', 'migrations', 'slack']);
    expect(body.checks.every((c) => c.ok)).toBe(true);
    expect(checkOf(body, 'migrations')?.detail).toBe(`${readMigrationJournal(MIGRATIONS_FOLDER).length} applied`);
    expect(checkOf(body, 'slack')?.detail).toContain(SEED.bot.user);
    // No X configured: no stream check.
    expect(checkOf(body, 'x_stream')).toBeUndefined();
  });

  it('is not ready while a migration this build ships is missing from the database, and names it', async () => {
    const db = s.app.context.db;
    const journal = readMigrationJournal(MIGRATIONS_FOLDER);
    const last = journal.at(-1)!;
    const [row] = rowsOf<{ hash: string; created_at: string }>(
      await db.execute(sql`select hash, created_at from drizzle.__drizzle_migrations where created_at = ${last.when}`),
    );
    expect(row).toBeTruthy();
    await db.execute(sql`delete from drizzle.__drizzle_migrations where created_at = ${last.when}`);
    try {
      const { status, body } = await readyz(url);
      expect(status).toBe(503);
      expect(body.status).toBe('not_ready');
      const check = checkOf(body, 'migrations');
      expect(check?.ok).toBe(false);
      expect(check?.error).toContain(last.tag);
      expect(checkOf(body, 'database')?.ok).toBe(true);
    } finally {
      await db.execute(
        sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${row!.hash}, ${row!.created_at})`,
      );
    }
    expect((await readyz(url)).status).toBe(200);
  });
});

describe('the Slack readiness check (auth.test against the sandbox Web API)', () => {
  const logger = createLogger({ level: 'silent' });
  let sandbox: SlackSandbox;
  let client: WebClient;
  let at = 1_000_000;
  const now = () => at;

  beforeAll(async () => {
    sandbox = createSlackSandbox({
      signingSecret: 'secret',
      botToken: 'xoxb-readiness',
      logger,
      appEventsUrl: 'http://127.0.0.1:9/slack/events',
    });
    await sandbox.listen();
    client = new WebClient('xoxb-readiness', {
      slackApiUrl: sandbox.apiUrl(),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  const calls = () => sandbox.workspace.callsTo('auth.test').length;

  it('passes with a valid token, and asks Slack at most once per 30 s', async () => {
    const check = slackAuthCheck(client, { now });
    expect(await check.check()).toContain(SEED.bot.user);
    const asked = calls();
    at += 29_000;
    await check.check();
    expect(calls()).toBe(asked);
    at += 1_000;
    await check.check();
    expect(calls()).toBe(asked + 1);
  });

  it('fails when Slack refuses the token, keeps that answer for the TTL, and recovers after it', async () => {
    const check = slackAuthCheck(client, { now });
    sandbox.workspace.failNext('auth.test', { error: 'token_revoked' });
    await expect(check.check()).rejects.toThrow('Slack refused the bot token: token_revoked');
    const asked = calls();
    await expect(check.check()).rejects.toThrow('token_revoked');
    expect(calls()).toBe(asked);
    at += 30_000;
    expect(await check.check()).toContain(SEED.bot.user);
  });

  it('stays ready, saying it could not verify, when Slack is unreachable, rate limits, or does not answer', async () => {
    const check = slackAuthCheck(client, { now, timeoutMs: 200 });
    sandbox.workspace.setDown('unreachable');
    try {
      expect(await check.check()).toMatch(/^not verified/);
    } finally {
      sandbox.workspace.setDown(false);
    }
    at += 30_000;
    sandbox.workspace.failNext('auth.test', { status: 429, retryAfter: 5 });
    expect(await check.check()).toMatch(/^not verified/);
    at += 30_000;
    sandbox.workspace.failNext('auth.test', { answerLost: 'hang' });
    expect(await check.check()).toMatch(/^not verified.*no answer within 200 ms/);
    sandbox.workspace.releaseHeld();
  });
});

describe('/readyz and the X stream (stream mode, the local X server)', () => {
  let x: FakeXServer;
  beforeAll(async () => {
    x = new FakeXServer({ heartbeatMs: 200 });
    await x.start();
  });
  afterAll(async () => {
    await x?.close();
  });

  it('is ready once the replica holding the stream lease has the stream connected', async () => {
    x.rateLimitConnects = 0;
    const s = await startSandboxApp({ env: xEnv(x.url) });
    try {
      const ingest = requireService<IngestService>(s.app.context, 'ingest');
      await waitUntil(() => ingest.x!.status().connected, 'the stream to connect');
      const { status, body } = await readyz(s.app.http.url);
      expect(status).toBe(200);
      expect(checkOf(body, 'x_stream')).toEqual({ name: 'x_stream', ok: true, detail: 'connected' });
    } finally {
      await s.close();
    }
  }, 60_000);

  it('is not ready while the lease holder cannot connect (X answers 429), and counts the 429s', async () => {
    x.rateLimitConnects = 1_000_000;
    const s = await startSandboxApp({ env: xEnv(x.url) });
    try {
      const url = s.app.http.url;
      await waitUntil(async () => (await series(url, 'earshot_rate_limited_total', { service: 'x' })) > 0, 'a 429');
      const ingest = requireService<IngestService>(s.app.context, 'ingest');
      expect(ingest.x!.status()).toMatchObject({ leader: true, connected: false });
      const { status, body } = await readyz(url);
      expect(status).toBe(503);
      expect(checkOf(body, 'x_stream')).toMatchObject({ ok: false, error: expect.stringContaining('not connected') });
      expect(checkOf(body, 'database')?.ok).toBe(true);
      expect(await series(url, 'earshot_x_stream_reconnects_total', { reason: 'rate_limit' })).toBeGreaterThan(0);
    } finally {
      await s.close();
      x.rateLimitConnects = 0;
    }
  }, 60_000);
});
