import { and, eq, isNotNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/database.js';
import { crisisAlerts, items, outbox, replies, tickets } from '../../src/db/schema/index.js';
import type { IngestService } from '../../src/ingest/module.js';
import { addStreamRule } from '../../src/ingest/x/rules.js';
import type { JobScheduler } from '../../src/jobs/scheduler.js';
import { requireService } from '../../src/module.js';
import type { ReplyWorker } from '../../src/replies/deliver.js';
import { DEMO_SOURCE } from '../../src/sandbox/demo/feed.js';
import { SEED } from '../../src/sandbox/index.js';
import { getSourceByName } from '../../src/sources/sources.js';
import { recordReply } from '../../src/tickets/actions.js';
import { KINDS, type SandboxApp, startSandboxApp } from '../app/sandbox-helpers.js';
import { type FakeUser, FakeXServer } from '../fakes/x-server.js';
import { userActor } from '../helpers/fixtures.js';
import { xClients } from '../ingest/helpers.js';
import { metricValue, scrape, series, waitUntil, xEnv } from './helpers.js';

/** Never within a test run: the jobs run when a test says, not on the minute. */
const NEVER = '0 0 1 1 *';

const dana: FakeUser = { id: '2001', username: 'dana', name: 'Dana K', followers: 300 };

describe.each(KINDS)('metrics on /metrics, recorded where things happen [%s]', (kind) => {
  let x: FakeXServer;
  let s: SandboxApp;
  let url: string;
  let sequence = 0;
  const ws = () => s.sandbox.sandbox.workspace;
  const db = () => s.app.context.db;
  const ingest = () => requireService<IngestService>(s.app.context, 'ingest');

  beforeAll(async () => {
    x = new FakeXServer({ heartbeatMs: 200 });
    await x.start();
    s = await startSandboxApp({
      kind,
      env: { ...xEnv(x.url), EARSHOT_SLA_SWEEP_CRON: NEVER, EARSHOT_CRISIS_CRON: NEVER },
    });
    url = s.app.http.url;
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    await x?.close();
  });

  /** Posts through the signed webhook and waits for the ticket's card in the feedback channel. */
  const postAndWaitForCard = async (text: string, author?: Record<string, unknown>) => {
    sequence += 1;
    const id = `metrics-${kind}-${sequence}`;
    const res = await s.post({ id, text, ...(author ? { author } : {}) });
    expect(res.status).toBe(202);
    const card = await ws().waitForMessage(
      SEED.channels.feedback,
      (message) => JSON.stringify(message.blocks ?? []).includes(text),
      { timeoutMs: 30_000 },
    );
    const ticketId = Number(/ticket_actions:(\d+)/.exec(JSON.stringify(card.blocks))?.[1]);
    expect(ticketId).toBeGreaterThan(0);
    return { id, ticketId, ts: card.ts };
  };

  const pendingRows = async () =>
    rowsOf<{ n: number }>(await db().execute(sql`select count(*)::int as n from outbox where status = 'pending'`))[0]
      ?.n ?? 0;

  it('counts items ingested by source and outcome: a webhook post is new, its resend a duplicate', async () => {
    const labels = (outcome: string) => ({ source: DEMO_SOURCE, outcome });
    const before = await scrape(url);
    const body = { id: `metrics-${kind}-ingest`, text: 'Where is my parcel, it was due on Monday' };
    expect((await s.post(body)).status).toBe(202);
    expect((await s.post(body)).status).toBe(200);
    const after = await scrape(url);
    const delta = (outcome: string) =>
      metricValue(after, 'earshot_items_ingested_total', labels(outcome)) -
      metricValue(before, 'earshot_items_ingested_total', labels(outcome));
    expect(delta('new')).toBe(1);
    expect(delta('duplicate')).toBe(1);
  });

  it('times triage by the provider that answered', async () => {
    const count = () => series(url, 'earshot_triage_seconds_count', { provider: 'embedded' });
    await ingest().pipeline.idle();
    const before = await count();
    const { id } = await postAndWaitForCard('The app logs me out every time I open the settings page');
    const [item] = await db().select().from(items).where(eq(items.externalId, id));
    expect(item?.processedAt).toBeTruthy();
    expect((await count()) - before).toBe(1);
    expect(await series(url, 'earshot_triage_seconds_sum', { provider: 'embedded' })).toBeGreaterThan(0);
  });

  it('times delivery from the outbox row being written to Slack accepting it, by kind', async () => {
    const count = () => series(url, 'earshot_slack_delivery_seconds_count', { kind: 'card' });
    // Earlier tests' cards (one posted without waiting for it) must be delivered before counting, or
    // one of them can land in the middle of this one.
    await ingest().pipeline.idle();
    await waitUntil(async () => (await pendingRows()) === 0, 'an empty outbox');
    const before = await count();
    const { ticketId } = await postAndWaitForCard('My discount code was rejected at the checkout page');
    const delivered = async () =>
      (
        await db()
          .select()
          .from(outbox)
          .where(and(eq(outbox.ticketId, ticketId), eq(outbox.kind, 'card'), isNotNull(outbox.deliveredAt)))
      )[0];
    await waitUntil(async () => (await delivered())?.status === 'done', 'the card row to be done');
    await waitUntil(async () => (await count()) > before, 'the card delivery to be observed');
    expect((await count()) - before).toBe(1);
  });

  it('reports the outbox backlog from the database at scrape time', async () => {
    await waitUntil(async () => (await pendingRows()) === 0, 'an empty outbox');
    ws().setDown(true);
    try {
      sequence += 1;
      expect(
        (await s.post({ id: `metrics-${kind}-backlog`, text: 'Nobody answers the phone at the store' })).status,
      ).toBe(202);
      await ingest().pipeline.idle();
      await waitUntil(async () => (await pendingRows()) > 0, 'the card to wait in the outbox');
      const backlog = await series(url, 'earshot_outbox_backlog');
      expect(backlog).toBe(await pendingRows());
      expect(backlog).toBeGreaterThan(0);
    } finally {
      ws().setDown(false);
    }
    await waitUntil(async () => (await pendingRows()) === 0, 'the outbox to drain after Slack is back', 60_000);
    expect(await series(url, 'earshot_outbox_backlog')).toBe(0);
  }, 90_000);

  it("counts Slack's 429s: a card answered ratelimited is held, counted once, then posted", async () => {
    const count = () => series(url, 'earshot_rate_limited_total', { service: 'slack' });
    const before = await count();
    ws().failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    await postAndWaitForCard('The delivery driver left my box in the rain');
    expect(
      ws()
        .callsTo('chat.postMessage')
        .some((call) => call.status === 429),
    ).toBe(true);
    expect((await count()) - before).toBe(1);
  });

  it('counts stream reconnects by reason: X dropping the connection is "disconnected"', async () => {
    const x1 = () => ingest().x!;
    await waitUntil(() => x1().status().connected, 'the X stream to connect');
    const connects = x1().status().connects;
    const before = await series(url, 'earshot_x_stream_reconnects_total', { reason: 'disconnected' });
    x.dropStreams();
    await waitUntil(() => x1().status().connects > connects && x1().status().connected, 'the stream to reconnect');
    expect((await series(url, 'earshot_x_stream_reconnects_total', { reason: 'disconnected' })) - before).toBe(1);
  });

  it("counts X's 429s: a reply X refuses with Too Many Requests waits and is counted", async () => {
    const source = await getSourceByName(db(), 'x');
    const admin = userActor(SEED.users.admin, 'admin');
    await addStreamRule(db(), xClients(x.url).app, admin, { sourceId: source!.id, value: 'acme', tag: 'brand' });
    await waitUntil(() => ingest().x!.status().connected, 'the X stream to be up');
    const ingestedBefore = await series(url, 'earshot_items_ingested_total', { source: 'x', outcome: 'new' });
    const post = x.publish({ text: 'hey acme my invoice shows the wrong address', author: dana });
    let ticketId = 0;
    await waitUntil(async () => {
      const [item] = await db().select().from(items).where(eq(items.externalId, post.id));
      ticketId = item?.ticketId ?? 0;
      return ticketId > 0;
    }, 'the streamed post to become a ticket');
    expect((await series(url, 'earshot_items_ingested_total', { source: 'x', outcome: 'new' })) - ingestedBefore).toBe(
      1,
    );

    const before = await series(url, 'earshot_rate_limited_total', { service: 'x' });
    x.postFailures = [429];
    const { reply } = await recordReply(db(), userActor(SEED.users.agent1, 'agent'), {
      ticketId,
      text: 'Sorry about that, we are fixing the address now.',
      parts: ['Sorry about that, we are fixing the address now.'],
      idempotencyKey: `metrics-${kind}-reply`,
    });
    await requireService<ReplyWorker>(s.app.context, 'replies').runOnce();
    await waitUntil(
      async () => (await series(url, 'earshot_rate_limited_total', { service: 'x' })) > before,
      "X's 429 to be counted",
    );
    expect((await series(url, 'earshot_rate_limited_total', { service: 'x' })) - before).toBe(1);
    const [row] = await db().select().from(replies).where(eq(replies.id, reply.id));
    expect(row?.status).toBe('pending');
    expect(row?.lastError).toContain('X rate limit');
  });

  it('counts crisis alerts by kind: a furious post from a big account raises one influencer alert', async () => {
    const jobs = requireService<JobScheduler>(s.app.context, 'jobs');
    const before = await series(url, 'earshot_crisis_alerts_total', { kind: 'influencer' });
    const alertsBefore = await db().select().from(crisisAlerts).where(eq(crisisAlerts.kind, 'influencer'));
    await postAndWaitForCard('This is the worst service I have ever had, I am furious and will never buy again', {
      handle: 'bigvoice',
      followers: 250_000,
    });
    expect(await jobs.runTick('crisis-detection', new Date())).toBe('succeeded');
    const alertsAfter = await db().select().from(crisisAlerts).where(eq(crisisAlerts.kind, 'influencer'));
    expect(alertsAfter.length - alertsBefore.length).toBe(1);
    expect((await series(url, 'earshot_crisis_alerts_total', { kind: 'influencer' })) - before).toBe(1);
    // The next detection pass (a later tick: ticks are named by whole seconds) updates the same wave:
    // nobody is paged again.
    expect(await jobs.runTick('crisis-detection', new Date(Date.now() + 1000))).toBe('succeeded');
    expect((await series(url, 'earshot_crisis_alerts_total', { kind: 'influencer' })) - before).toBe(1);
  });

  it('counts SLA warnings and breaches by clock, one per alert the sweep raises', async () => {
    const jobs = requireService<JobScheduler>(s.app.context, 'jobs');
    const { ticketId } = await postAndWaitForCard('I was charged twice for the same order last week');
    const [ticket] = await db().select().from(tickets).where(eq(tickets.id, ticketId));
    const created = ticket!.createdAt.getTime();
    const firstResponseMs = ticket!.firstResponseDueAt!.getTime() - created;

    /** The sweep's alerts as the timeline records them, by clock and level. */
    const alertEvents = async () => {
      const rows = rowsOf<{ clock: string; type: string; n: number }>(
        await db().execute(sql`
          select details->>'clock' as clock, type, count(*)::int as n from ticket_events
          where type in ('sla_warning', 'sla_breached') group by 1, 2`),
      );
      const of = (clock: string, type: string) => rows.find((r) => r.clock === clock && r.type === type)?.n ?? 0;
      return of;
    };
    const sweepTo = async (at: Date) => {
      const before = { metrics: await scrape(url), events: await alertEvents() };
      expect(await jobs.runTick('sla-sweep', at)).toBe('succeeded');
      const after = { metrics: await scrape(url), events: await alertEvents() };
      const delta = (target: string, level: 'warning' | 'breached') => ({
        metric:
          metricValue(after.metrics, 'earshot_sla_alerts_total', { target, level }) -
          metricValue(before.metrics, 'earshot_sla_alerts_total', { target, level }),
        events:
          after.events(target, level === 'warning' ? 'sla_warning' : 'sla_breached') -
          before.events(target, level === 'warning' ? 'sla_warning' : 'sla_breached'),
      });
      return delta;
    };

    const warned = await sweepTo(new Date(created + firstResponseMs * 0.8));
    const warning = warned('first_response', 'warning');
    expect(warning.events).toBeGreaterThan(0);
    expect(warning.metric).toBe(warning.events);

    const breached = await sweepTo(new Date(created + 60 * 24 * 3600_000));
    for (const target of ['first_response', 'resolution']) {
      const delta = breached(target, 'breached');
      expect(delta.events).toBeGreaterThan(0);
      expect(delta.metric).toBe(delta.events);
    }
    const [after] = await db().select().from(tickets).where(eq(tickets.id, ticketId));
    expect([after?.firstResponseSla, after?.resolutionSla]).toEqual(['breached', 'breached']);
  });
});
