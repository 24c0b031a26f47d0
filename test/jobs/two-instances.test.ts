import { Writable } from 'node:stream';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Earshot, startEarshot } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { rowsOf } from '../../src/db/database.js';
import { authors, crisisAlerts, items, jobRuns, ticketEvents, tickets } from '../../src/db/schema/index.js';
import { processItem } from '../../src/ingest/process-item.js';
import { storeItem } from '../../src/ingest/store-item.js';
import { jobsModule } from '../../src/jobs/module.js';
import type { JobScheduler } from '../../src/jobs/scheduler.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { requireService } from '../../src/module.js';
import { reportsModule } from '../../src/reports/module.js';
import { createSlackSandbox, SEED, type SlackSandbox } from '../../src/sandbox/index.js';
import { slackModule } from '../../src/slack/module.js';
import { hasRealPostgres } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, seedSource } from '../helpers/fixtures.js';
import { seedCustomerStory, tablesContaining } from '../privacy/helpers.js';
import { BOT_TOKEN, createPostgresDatabase, SIGNING_SECRET } from '../slack/harness.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

function logSink(): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe.skipIf(!hasRealPostgres)(
  'two Earshot instances against one PostgreSQL run every job tick once [postgres]',
  () => {
    let sandbox: SlackSandbox;
    let drop: () => Promise<void>;
    const apps: Earshot[] = [];
    const sinks = [logSink(), logSink()];
    const now = new Date();
    let slaTicketId = 0;
    let story: Awaited<ReturnType<typeof seedCustomerStory>>;

    beforeAll(async () => {
      const database = await createPostgresDatabase();
      drop = database.drop;
      sandbox = createSlackSandbox({
        signingSecret: SIGNING_SECRET,
        botToken: BOT_TOKEN,
        logger: createLogger({ level: 'silent' }),
        appEventsUrl: () => `${apps[0]!.http.url}/slack/events`,
      });
      await sandbox.listen();
      const config = loadConfig({
        PORT: '0',
        DATABASE_URL: database.url,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: sandbox.apiUrl(),
        EARSHOT_SLA_SWEEP_CRON: '* * * * * *',
        EARSHOT_CRISIS_CRON: '* * * * * *',
        EARSHOT_LEADS_CHANNEL: 'earshot-leads',
        EARSHOT_CRISIS_CHANNEL: 'earshot-oncall',
        EARSHOT_ONCALL_GROUP: SEED.usergroups.oncall,
        EARSHOT_ON_DUTY_GROUPS: SEED.usergroups.oncall,
        EARSHOT_RETENTION_DAYS: '90',
        EARSHOT_BURST_THRESHOLD: '0',
      });
      const modules = [
        slackModule({
          processBeforeResponse: true,
          clientRetries: 0,
          delivery: {
            pollIntervalMs: 20,
            backoff: { baseMs: 20, maxMs: 100 },
            pacing: { ratePerSecond: 50, burst: 10 },
          },
        }),
        jobsModule,
        reportsModule,
      ];
      // One after the other: the second finds the schema migrated.
      apps.push(await startEarshot(config, sinks[0]!.logger, { modules }));
      const db = apps[0]!.context.db;

      // Retention: a customer's conversation resolved 200 days ago.
      const old = await seedSource(db, 'replicas-old');
      story = await seedCustomerStory(db, { sourceId: old.id, name: 'Ragna', at: new Date(now.getTime() - 200 * DAY) });
      await db.update(crisisAlerts).set({ status: 'resolved' });

      // SLA: a P1 ticket nobody has answered for 50 minutes (warning at 45, breach at 60).
      const source = await seedSource(db, 'replicas-src');
      const stored = await storeItem(
        db,
        inboundFixture(source.id, {
          author: { externalId: 'sla-1', handle: 'waiting' },
          createdAt: new Date(now.getTime() - 50 * MINUTE),
        }),
        { maxTextLength: 20_000 },
      );
      const opened = await processItem(
        db,
        { itemId: stored.item.id, assessment: assessmentFixture({ priority: 'P1', channel: 'earshot-feedback' }) },
        { groupingWindowMinutes: 0, now: new Date(now.getTime() - 50 * MINUTE) },
      );
      slaTicketId = opened.ticket.id;

      // Crisis: two quiet hours, then 20 negative posts about an outage in the last ten minutes.
      const x = await seedSource(db, 'replicas-x');
      let n = 0;
      const post = async (at: Date, topics: string[], sentiment: string) => {
        n += 1;
        const [author] = await db
          .insert(authors)
          .values({ sourceId: x.id, externalId: `wave-${n}`, handle: `w${n}` })
          .returning();
        await db.insert(items).values({
          sourceId: x.id,
          externalId: `wave-item-${n}`,
          authorId: author!.id,
          text: `everything is down ${n}`,
          createdAt: at,
          receivedAt: at,
          processedAt: at,
          triage: { topics, sentiment, spam: false },
        });
      };
      for (let i = 1; i <= 8; i++) await post(new Date(now.getTime() - (15 * i + 7) * MINUTE), ['misc'], 'neutral');
      for (let i = 0; i < 20; i++)
        await post(new Date(now.getTime() - (i % 10) * MINUTE - 1000), ['outage'], 'negative');

      apps.push(await startEarshot(config, sinks[1]!.logger, { modules }));
    });

    afterAll(async () => {
      for (const app of apps) await app.stop();
      await sandbox?.close();
      await drop?.();
    });

    const succeeded = async (job: string) =>
      (await apps[0]!.context.db.select().from(jobRuns).where(eq(jobRuns.job, job))).filter(
        (r) => r.status === 'succeeded',
      );

    it('runs the SLA sweep and crisis detection on their real schedules once per tick, each alert once', async () => {
      const db = apps[0]!.context.db;
      for (let i = 0; i < 150; i++) {
        if ((await succeeded('sla-sweep')).length >= 4 && (await succeeded('crisis-detection')).length >= 4) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await succeeded('sla-sweep')).length).toBeGreaterThanOrEqual(4);
      expect((await succeeded('crisis-detection')).length).toBeGreaterThanOrEqual(4);

      // The manual ticks: both instances fire the digest and retention ticks at the same moment.
      const schedulers = apps.map((app) => requireService<JobScheduler>(app.context, 'jobs'));
      const tick = new Date(Math.floor(now.getTime() / 1000) * 1000);
      for (const job of ['digest-daily', 'retention']) {
        const outcomes = await Promise.all(schedulers.map((s) => s.runTick(job, tick)));
        expect(outcomes.sort()).toEqual(['claimed_elsewhere', 'succeeded']);
      }

      // Let both delivery workers post what the jobs queued.
      for (let i = 0; i < 200; i++) {
        const [row] = rowsOf<{ n: number }>(
          await db.execute(sql`select count(*)::int as n from outbox where status = 'pending'`),
        );
        if (Number(row?.n) === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.all(schedulers.map((s) => s.stop()));

      // Every run that ran was logged by exactly one instance, and no tick ran twice.
      const runs = sinks.flatMap((s) => s.lines.filter((l) => l.msg === 'job run succeeded'));
      const keys = runs.map((l) => `${String(l.job)}@${String(l.scheduledFor)}`);
      expect(new Set(keys).size).toBe(keys.length);
      const rows = await db.select().from(jobRuns);
      expect(rows.filter((r) => r.status === 'succeeded')).toHaveLength(runs.length);
      expect(rows.filter((r) => r.status === 'failed')).toEqual([]);
      expect(sinks.flatMap((s) => s.lines.filter((l) => Number(l.level) >= 50))).toEqual([]);

      // SLA: one warning, one channel ping, one escalation, however many sweeps ran on either instance.
      const events = await db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, slaTicketId));
      expect(events.filter((e) => e.type === 'sla_warning')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'escalated')).toHaveLength(1);
      const feedback = sandbox.workspace.channelMessages(SEED.channels.feedback).map((m) => m.text ?? '');
      expect(feedback.filter((t) => t.includes(':warning: P1 ticket'))).toHaveLength(1);
      expect(feedback.filter((t) => t.includes('has been unclaimed for'))).toHaveLength(1);
      const [ticket] = await db.select().from(tickets).where(eq(tickets.id, slaTicketId));
      expect(ticket!.firstResponseSla).toBe('warning');

      // Crisis: one alert, one card in the on-call channel.
      const alerts = (await db.select().from(crisisAlerts)).filter((a) => a.status !== 'resolved');
      expect(alerts).toHaveLength(1);
      const oncall = sandbox.workspace.channelMessages(SEED.channels.oncall);
      expect(oncall.filter((m) => (m.text ?? '').includes('Volume spike'))).toHaveLength(1);

      // Digest: one post. Retention: the old conversation is erased.
      const leads = sandbox.workspace.channelMessages(SEED.channels.leads).map((m) => m.text ?? '');
      expect(leads.filter((t) => t.startsWith('Daily digest'))).toHaveLength(1);
      for (const secret of story.secrets) expect(await tablesContaining(db, secret)).toEqual([]);
    });
  },
);
