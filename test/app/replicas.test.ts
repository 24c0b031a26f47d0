import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Earshot, startEarshot } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { jobRuns, leases, tickets } from '../../src/db/schema/index.js';
import type { IngestService } from '../../src/ingest/module.js';
import type { JobScheduler } from '../../src/jobs/scheduler.js';
import { requireService } from '../../src/module.js';
import { createSlackSandbox, type SlackSandbox } from '../../src/sandbox/index.js';
import { MESSAGE_METADATA } from '../../src/slack/ids.js';
import { createSource } from '../../src/sources/sources.js';
import type { Source } from '../../src/tickets/types.js';
import { FakeXServer } from '../fakes/x-server.js';
import { hasRealPostgres } from '../helpers/database.js';
import { userActor } from '../helpers/fixtures.js';
import { signedHeaders } from '../helpers/webhooks.js';
import { waitUntil, xEnv } from '../observability/helpers.js';
import { BOT_TOKEN, createPostgresDatabase, logSink, SIGNING_SECRET } from '../slack/harness.js';

/** Jobs every second, so a few seconds show many ticks raced by both replicas. */
const EVERY_SECOND = '* * * * * *';
const TICKETS = 12;

const title = 'two replicas of the whole app on one PostgreSQL, one X server, one Slack';

if (!hasRealPostgres) {
  describe.skip(`${title} [postgres: set TEST_DATABASE_URL to run]`, () => {
    it('runs against real PostgreSQL', () => {});
  });
} else {
  describe(title, () => {
    let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
    let x: FakeXServer;
    let slack: SlackSandbox;
    let source: Source;
    const replicas: { app: Earshot; lines: Record<string, unknown>[] }[] = [];
    let turn = 0;

    beforeAll(async () => {
      database = await createPostgresDatabase();
      x = new FakeXServer({ heartbeatMs: 200 });
      await x.start();
      const quiet = logSink('silent').logger;
      // One Slack for both, delivering people's clicks to the replicas in turn, as a load balancer would.
      slack = createSlackSandbox({
        signingSecret: SIGNING_SECRET,
        botToken: BOT_TOKEN,
        logger: quiet,
        appEventsUrl: () => `${replicas[turn++ % replicas.length]!.app.http.url}/slack/events`,
      });
      await slack.listen();
      const config = loadConfig({
        PORT: '0',
        DATABASE_URL: database.url,
        EARSHOT_DATA_DIR: 'memory://',
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl(),
        EARSHOT_ADMINS: '',
        EARSHOT_SLA_SWEEP_CRON: EVERY_SECOND,
        EARSHOT_CRISIS_CRON: EVERY_SECOND,
        ...xEnv(x.url),
      });
      // Both start at once, as replicas of one deployment do: migrations run once under their lock.
      const started = await Promise.all(
        [0, 1].map(async () => {
          const sink = logSink('info');
          return { app: await startEarshot(config, sink.logger), lines: sink.lines };
        }),
      );
      replicas.push(...started);
      source = await createSource(
        replicas[0]!.app.context.db,
        userActor('U0ADMIN', 'admin'),
        {
          name: 'shop',
          kind: 'webhook',
        },
        null,
      );
    }, 120_000);

    afterAll(async () => {
      await Promise.all(replicas.map((r) => r.app.stop()));
      await slack?.close();
      await x?.close();
      await database?.drop();
    });

    const xOf = (r: (typeof replicas)[number]) => requireService<IngestService>(r.app.context, 'ingest').x!;

    it('runs one X stream consumer: one replica leads and connects, the other stands by and is ready', async () => {
      await waitUntil(() => replicas.some((r) => xOf(r).status().connected), 'a replica to connect the stream');
      const leaders = replicas.filter((r) => xOf(r).status().leader);
      expect(leaders).toHaveLength(1);
      expect(x.connects).toBe(1);
      expect(x.openStreams).toBe(1);
      const held = (await replicas[0]!.app.context.db.select().from(leases)).filter((l) =>
        l.name.startsWith('x-ingest:'),
      );
      expect(held).toEqual([expect.objectContaining({ holder: leaders[0]!.app.context.instanceId })]);
      for (const r of replicas) {
        const res = await fetch(`${r.app.http.url}/readyz`);
        expect(res.status).toBe(200);
        const body = (await res.json()) as { checks: { name: string; detail?: string }[] };
        const stream = body.checks.find((c) => c.name === 'x_stream');
        expect(stream?.detail).toBe(r === leaders[0] ? 'connected' : 'standby (another replica holds the stream)');
      }
    });

    it('posts one card per ticket when webhook posts are spread across both replicas', async () => {
      const secret = source.secret!;
      const posts = Array.from({ length: TICKETS }, (_, i) => ({
        id: `replica-post-${i}`,
        author: { id: `replica-author-${i}`, handle: `customer${i}` },
        text: `Order number ${i} arrived damaged and the box was open`,
      }));
      const answers = await Promise.all(
        posts.map(async (post, i) => {
          const body = JSON.stringify(post);
          const at = new Date();
          const res = await fetch(`${replicas[i % 2]!.app.http.url}/ingest/${source.name}`, {
            method: 'POST',
            body,
            headers: signedHeaders(secret, `msg_${post.id}`, body, at),
          });
          return res.status;
        }),
      );
      expect(answers).toEqual(posts.map(() => 202));
      const db = replicas[0]!.app.context.db;
      const all = () => db.select().from(tickets).where(eq(tickets.sourceId, source.id)).orderBy(asc(tickets.id));
      await waitUntil(
        async () => {
          const rows = await all();
          return rows.length === TICKETS && rows.every((t) => t.slackTs);
        },
        'every ticket to have its card',
        60_000,
      );
      // Let both delivery workers run a few more rounds: a second post would show up now.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const cardPosts = new Map<number, number>();
      for (const call of slack.workspace.callsTo('chat.postMessage')) {
        const raw = (call.args as { metadata?: unknown }).metadata;
        const metadata = (typeof raw === 'string' ? JSON.parse(raw) : raw) as
          | { event_type?: string; event_payload?: { ticket_id?: number } }
          | undefined;
        if (call.ok && metadata?.event_type === MESSAGE_METADATA.ticketCard) {
          const id = Number(metadata.event_payload?.ticket_id);
          cardPosts.set(id, (cardPosts.get(id) ?? 0) + 1);
        }
      }
      const rows = await all();
      expect(rows.map((t) => cardPosts.get(t.id) ?? 0)).toEqual(rows.map(() => 1));
      // The work was shared: both replicas ingested posts.
      for (const r of replicas) {
        expect(r.lines.filter((l) => l.msg === 'item processed').length).toBeGreaterThan(0);
      }
    }, 90_000);

    it('runs each job tick once: every tick has one job_runs row and one run, on whichever replica claimed it', async () => {
      const db = replicas[0]!.app.context.db;
      await waitUntil(
        async () => (await db.select().from(jobRuns).where(eq(jobRuns.job, 'sla-sweep'))).length >= 4,
        'a few sla-sweep ticks',
        30_000,
      );
      // The same tick fired on both replicas at once (a job the cron is not running now): one runs
      // it, the other finds it claimed.
      const at = new Date(Date.UTC(2030, 0, 1, 9, 0, 0));
      const outcomes = await Promise.all(
        replicas.map((r) => requireService<JobScheduler>(r.app.context, 'jobs').runTick('digest-daily', at)),
      );
      expect([...outcomes].sort()).toEqual(['claimed_elsewhere', 'succeeded']);
      const rows = await db.select().from(jobRuns).where(eq(jobRuns.scheduledFor, at));
      expect(rows).toHaveLength(1);
      // Both replicas ticked every second; a run is logged only by the replica that ran it. Stopping
      // the schedulers waits for the runs in flight, so the log and the table can be compared.
      await Promise.all(replicas.map((r) => requireService<JobScheduler>(r.app.context, 'jobs').stop()));
      for (const job of ['sla-sweep', 'crisis-detection']) {
        const rows = await db.select().from(jobRuns).where(eq(jobRuns.job, job));
        const ran = replicas.flatMap((r) =>
          r.lines.filter((l) => l.msg === 'job run succeeded' && l.job === job).map((l) => String(l.scheduledFor)),
        );
        const succeeded = rows.filter((row) => row.status === 'succeeded').map((row) => row.scheduledFor.toISOString());
        expect(new Set(ran).size).toBe(ran.length);
        expect([...ran].sort()).toEqual([...succeeded].sort());
        expect(ran.length).toBeGreaterThan(0);
        expect(rows.filter((row) => row.status !== 'succeeded' && row.status !== 'skipped_overlap')).toEqual([]);
      }
    }, 60_000);

    it('still has one stream consumer after a lease renewal round, in which the standby tried to take over', async () => {
      const db = replicas[0]!.app.context.db;
      const lease = async () => (await db.select().from(leases)).find((l) => l.name.startsWith('x-ingest:'))!;
      const first = await lease();
      await waitUntil(
        async () => (await lease()).expiresAt.getTime() > first.expiresAt.getTime(),
        'the leader to renew its lease',
        30_000,
      );
      expect((await lease()).holder).toBe(first.holder);
      expect(replicas.filter((r) => xOf(r).status().leader)).toHaveLength(1);
      expect(x.connectAttempts).toBe(1);
      expect(x.openStreams).toBe(1);
    }, 40_000);
  });
}
