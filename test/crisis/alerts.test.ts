import { and, asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { planAlert } from '../../src/crisis/alerts.js';
import { buildCrisisAlertCard } from '../../src/crisis/card.js';
import { DEFAULT_THRESHOLDS } from '../../src/crisis/detector.js';
import { runCrisisDetection } from '../../src/crisis/job.js';
import {
  acknowledgeAlert,
  declareIncident,
  linkTicketToIncidents,
  resolveAlert,
  snoozeAlert,
} from '../../src/crisis/respond.js';
import type { Database } from '../../src/db/database.js';
import { authors, crisisAlerts, incidents, items, outbox, ticketEvents, tickets } from '../../src/db/schema/index.js';
import { isAppError } from '../../src/errors.js';
import { ACTIONS } from '../../src/slack/ids.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';

const MINUTE = 60_000;
const NOW = new Date('2026-03-10T14:10:00Z');
const routing = { channel: 'C0ONCALL', oncallGroup: 'S0ONCALL', cooldownMinutes: 60, windowMinutes: 15 };
const thresholds = DEFAULT_THRESHOLDS;
const lead = userActor('U0LEAD', 'lead');

let seq = 0;
/** Stores a triaged item (and, when asked, its ticket) received at `at`. */
async function seedItem(
  db: Database,
  sourceId: number,
  at: Date,
  opts: { topics?: string[]; sentiment?: string; withTicket?: boolean; followers?: number } = {},
) {
  seq += 1;
  const [author] = await db
    .insert(authors)
    .values({ sourceId, externalId: `crisis-${seq}`, handle: `user${seq}`, followerCount: opts.followers ?? 10 })
    .returning();
  let ticketId: number | null = null;
  if (opts.withTicket) {
    const [ticket] = await db
      .insert(tickets)
      .values({
        sourceId,
        authorId: author!.id,
        channel: 'C0FEEDBACK',
        topics: opts.topics ?? [],
        sentiment: (opts.sentiment ?? 'neutral') as 'neutral',
        lastCustomerMessageAt: at,
        createdAt: at,
      })
      .returning();
    ticketId = ticket!.id;
  }
  await db.insert(items).values({
    sourceId,
    externalId: `crisis-item-${seq}`,
    authorId: author!.id,
    ticketId,
    text: `the app is down <!channel> ${seq}`,
    createdAt: at,
    receivedAt: at,
    triage: { topics: opts.topics ?? ['misc'], sentiment: opts.sentiment ?? 'neutral', spam: false },
  });
  return ticketId;
}

async function messages(db: Database) {
  return db.select().from(outbox).where(eq(outbox.kind, 'message')).orderBy(asc(outbox.id));
}

describe('alert planning', () => {
  const base = { status: 'open', lastSeenAt: NOW, resolvedAt: null, snoozedUntil: null };
  it('creates, updates, stays silent while snoozed, reposts after, ignores a just-resolved wave', () => {
    expect(planAlert(null, NOW, 60)).toBe('create');
    expect(planAlert(base, new Date(NOW.getTime() + 5 * MINUTE), 60)).toBe('update');
    expect(planAlert(base, new Date(NOW.getTime() + 61 * MINUTE), 60)).toBe('create');
    const snoozed = { ...base, status: 'snoozed', snoozedUntil: new Date(NOW.getTime() + 30 * MINUTE) };
    expect(planAlert(snoozed, new Date(NOW.getTime() + 10 * MINUTE), 60)).toBe('silent');
    expect(planAlert(snoozed, new Date(NOW.getTime() + 31 * MINUTE), 60)).toBe('repost');
    const resolved = { ...base, status: 'resolved', resolvedAt: NOW };
    expect(planAlert(resolved, new Date(NOW.getTime() + 10 * MINUTE), 60)).toBe('ignore');
    expect(planAlert(resolved, new Date(NOW.getTime() + 61 * MINUTE), 60)).toBe('create');
  });
});

describeEachDatabase('crisis alerts from the database', (handle) => {
  let alertId = 0;
  let waveTickets: number[] = [];

  it('detects a spike from stored items and raises one alert that then updates', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'x-crisis');
    // Two quiet hours: one post per 15-minute window.
    for (let i = 1; i <= 8; i++) await seedItem(db, source.id, new Date(NOW.getTime() - (15 * i + 7) * MINUTE));
    // The wave: 20 negative posts about an outage in the last 10 minutes.
    waveTickets = [];
    for (let i = 0; i < 20; i++) {
      const id = await seedItem(db, source.id, new Date(NOW.getTime() - (i % 10) * MINUTE - 1000), {
        topics: ['outage'],
        sentiment: 'negative',
        withTicket: true,
      });
      waveTickets.push(id!);
    }
    const first = await runCrisisDetection(db, { now: NOW, thresholds, routing });
    expect(first).toMatchObject({ signals: 1, create: 1 });
    const second = await runCrisisDetection(db, { now: new Date(NOW.getTime() + MINUTE), thresholds, routing });
    expect(second).toMatchObject({ update: 1, create: 0 });
    const alerts = await db.select().from(crisisAlerts);
    expect(alerts).toHaveLength(1);
    alertId = alerts[0]!.id;
    expect(alerts[0]!.groupKey).toBe(`source:${source.id}`);
    const queued = await messages(db);
    expect(queued).toHaveLength(2);
    expect(queued[0]!.channel).toBe('C0ONCALL');
    expect(queued[0]!.payload.record).toEqual({ table: 'crisis_alerts', id: alertId });
    expect(String(queued[0]!.payload.text)).toContain('<!subteam^S0ONCALL>');
    expect(queued[1]!.payload.updateOf).toEqual({ table: 'crisis_alerts', id: alertId });
    // Customer text is escaped on the card.
    expect(JSON.stringify(queued[0]!.payload.blocks)).toContain('&lt;!channel&gt;');
    expect(JSON.stringify(queued[0]!.payload.blocks)).not.toContain('<!channel>');
    // A third reading while an update is still pending collapses into it.
    await runCrisisDetection(db, { now: new Date(NOW.getTime() + 2 * MINUTE), thresholds, routing });
    expect(await messages(db)).toHaveLength(2);
  });

  it('acknowledges once, snoozes, declares an incident linking the wave, and links later tickets', async () => {
    const { db } = handle();
    await acknowledgeAlert(db, userActor('U0AGENT'), { alertId, routing });
    const again = await acknowledgeAlert(db, userActor('U0OTHER'), { alertId, routing });
    expect(again.result).toBeNull();
    expect(again.alert.acknowledgedBy).toBe('U0AGENT');

    await expect(declareIncident(db, userActor('U0AGENT'), { alertId, routing })).rejects.toSatisfy((e) =>
      isAppError(e, 'forbidden'),
    );
    const declared = await declareIncident(db, lead, { alertId, routing, now: NOW });
    expect(declared.result?.linked).toBe(20);
    const linked = await db.select().from(tickets).where(eq(tickets.incidentId, declared.result!.incident.id));
    expect(linked.map((t) => t.id).sort()).toEqual([...waveTickets].sort());
    const events = await db.select().from(ticketEvents).where(eq(ticketEvents.type, 'incident_linked'));
    expect(events).toHaveLength(20);

    // A later ticket on the topic joins the incident; one on another topic does not.
    const source = (await db.select().from(tickets).where(eq(tickets.id, waveTickets[0]!)))[0]!.sourceId;
    const laterId = await seedItem(db, source, new Date(NOW.getTime() + 5 * MINUTE), {
      topics: ['outage', 'login'],
      withTicket: true,
    });
    const otherId = await seedItem(db, source, new Date(NOW.getTime() + 5 * MINUTE), {
      topics: ['pricing'],
      withTicket: true,
    });
    for (const id of [laterId!, otherId!]) {
      await db.transaction(async (tx) => {
        const [t] = await tx.select().from(tickets).where(eq(tickets.id, id));
        await linkTicketToIncidents(tx, t!);
      });
    }
    const [later] = await db.select().from(tickets).where(eq(tickets.id, laterId!));
    const [other] = await db.select().from(tickets).where(eq(tickets.id, otherId!));
    expect(later!.incidentId).toBe(declared.result!.incident.id);
    expect(other!.incidentId).toBeNull();

    const snoozed = await snoozeAlert(db, userActor('U0AGENT'), { alertId, routing, now: NOW });
    expect(snoozed.alert.status).toBe('snoozed');
    const quiet = await runCrisisDetection(db, { now: new Date(NOW.getTime() + 3 * MINUTE), thresholds, routing });
    expect(quiet).toMatchObject({ silent: 1 });
  });

  it('links items ingested after the declaration to the incident, in the ingest transaction', async () => {
    const { db } = handle();
    const [incident] = await db.select().from(incidents).where(eq(incidents.alertId, alertId));
    const [waveTicket] = await db.select().from(tickets).where(eq(tickets.id, waveTickets[0]!));
    const later = await ingestFixture(
      db,
      inboundFixture(waveTicket!.sourceId, { author: { externalId: 'late-outage' }, text: 'still down for me' }),
      assessmentFixture({ triage: { topics: ['outage'] } }),
    );
    expect(later.outcome).toBe('opened');
    expect(later.ticket.incidentId).toBe(incident!.id);
    const [stored] = await db.select().from(tickets).where(eq(tickets.id, later.ticket.id));
    expect(stored!.incidentId).toBe(incident!.id);
    const linked = await db
      .select()
      .from(ticketEvents)
      .where(and(eq(ticketEvents.ticketId, later.ticket.id), eq(ticketEvents.type, 'incident_linked')));
    expect(linked.map((e) => [e.actor, e.details])).toEqual([['system:crisis', { incidentId: incident!.id }]]);

    const unrelated = await ingestFixture(
      db,
      inboundFixture(waveTicket!.sourceId, { author: { externalId: 'late-pricing' }, text: 'why so expensive' }),
      assessmentFixture({ triage: { topics: ['pricing'] } }),
    );
    expect(unrelated.ticket.incidentId).toBeNull();
    const otherSource = await seedSource(db, 'crisis-elsewhere');
    const elsewhere = await ingestFixture(
      db,
      inboundFixture(otherSource.id, { author: { externalId: 'late-other' }, text: 'outage here too' }),
      assessmentFixture({ triage: { topics: ['outage'] } }),
    );
    expect(elsewhere.ticket.incidentId).toBeNull();
  });

  it('resolves the alert and its incident; the wave stays quiet for a cooldown', async () => {
    const { db } = handle();
    await resolveAlert(db, lead, { alertId, routing, now: new Date(NOW.getTime() + 4 * MINUTE) });
    const [alert] = await db.select().from(crisisAlerts).where(eq(crisisAlerts.id, alertId));
    expect(alert!.status).toBe('resolved');
    const [incident] = await db.select().from(incidents).where(eq(incidents.alertId, alertId));
    expect(incident!.status).toBe('resolved');
    const after = await runCrisisDetection(db, { now: new Date(NOW.getTime() + 5 * MINUTE), thresholds, routing });
    expect(after).toMatchObject({ ignore: 1, create: 0 });
    const last = (await messages(db)).at(-1)!;
    const blocks = JSON.stringify(last.payload.blocks);
    expect(blocks).toContain('Resolved by <@U0LEAD>');
    expect(blocks).not.toContain(ACTIONS.crisisResolve);
    const pending = await db
      .select()
      .from(outbox)
      .where(and(eq(outbox.kind, 'message'), eq(outbox.dedupeKey, `crisis:${alertId}:update`)));
    expect(pending).toHaveLength(1);
  });
});

describe('crisis alert card', () => {
  it('shows the trigger, counts, topics, terms, trend, escaped samples, ticket links and buttons', () => {
    const card = buildCrisisAlertCard(
      {
        id: 7,
        status: 'open',
        acknowledgedBy: null,
        snoozedUntil: null,
        firstSeenAt: NOW,
        lastSeenAt: NOW,
        details: {
          title: 'Volume spike on x: “outage”',
          kinds: ['volume'],
          topic: 'outage',
          sourceIds: [1],
          sourceNames: ['x'],
          count: 42,
          mean: 6.1,
          ratio: 6.885,
          z: 11.24,
          peakCount: 42,
          windowMinutes: 15,
          topTopics: [{ topic: 'outage', count: 42 }],
          topTerms: [{ term: 'down', count: 30 }],
          samples: [
            {
              text: 'Down again <@U123> <https://evil|bank.com>',
              author: '@dana_k',
              url: 'https://x.com/dana_k/status/1',
              followers: 1200,
              sentiment: 'negative',
              ticketId: 5,
            },
          ],
          ticketIds: [5, 6],
          trend: [1, 1, 2, 1, 1, 2, 1, 3, 42],
        },
      },
      { oncallGroup: 'S0ONCALL', tickets: [{ id: 5, channel: 'C0FEED', slackTs: '1700000000.000100' }] },
    );
    const json = JSON.stringify(card.blocks);
    expect(card.text).toContain('<!subteam^S0ONCALL>');
    expect(json).toContain('*42* posts in the last 15 min against a usual *6.1* (×6.9, z 11.2)');
    expect(json).toContain('Down again &lt;@U123&gt; &lt;https://evil|bank.com&gt;');
    // The byline is a context line: italics would end at the underscore inside the handle.
    expect(json).toContain(
      '{"type":"context","elements":[{"type":"mrkdwn","text":"@dana_k, 1,200 followers, negative · ticket #5 · <https://x.com/dana_k/status/1|original>"}]}',
    );
    expect(json).toContain('<https://slack.com/archives/C0FEED/p1700000000000100|#5>');
    expect(json).toContain('#6');
    expect(json).toContain('▁▁▁▁▁▁▁▂█');
    expect(json).toContain('*Top topics*\\noutage (42)');
    for (const id of [ACTIONS.crisisAcknowledge, ACTIONS.crisisIncident, ACTIONS.crisisSnooze, ACTIONS.crisisResolve]) {
      expect(json).toContain(id);
    }
    expect(card.blocks.length).toBeLessThanOrEqual(50);
  });
  it('masks personal data in sample posts unless masking is off, and shows the trend as a chart image when given', () => {
    const view = {
      id: 9,
      status: 'open' as const,
      acknowledgedBy: null,
      snoozedUntil: null,
      firstSeenAt: NOW,
      lastSeenAt: NOW,
      details: {
        title: 'Volume spike on x',
        kinds: ['volume' as const],
        topic: null,
        sourceIds: [1],
        sourceNames: ['x'],
        count: 12,
        mean: 2,
        ratio: 6,
        z: 5,
        peakCount: 12,
        windowMinutes: 15,
        topTopics: [],
        topTerms: [],
        samples: [
          {
            text: 'mail me at dana.k@example.com or call +44 20 7946 0958, card 4111 1111 1111 1111',
            author: '@dana',
            url: null,
            followers: 10,
            sentiment: 'negative',
            ticketId: null,
          },
        ],
        ticketIds: [],
        trend: [1, 2, 12],
      },
    };
    const masked = JSON.stringify(buildCrisisAlertCard(view).blocks);
    // One post gives each topic a count of 1: the card lists them without it.
    const single = {
      ...view,
      details: {
        ...view.details,
        count: 1,
        topTopics: [
          { topic: 'refund', count: 1 },
          { topic: 'card', count: 1 },
        ],
      },
    };
    expect(JSON.stringify(buildCrisisAlertCard(single).blocks)).toContain('*Topics*\\nrefund, card"');
    expect(buildCrisisAlertCard(single).text).toContain(': 1 post in 15 min');
    expect(buildCrisisAlertCard(view).text).toContain(': 12 posts in 15 min');
    expect(masked).not.toContain('dana.k@example.com');
    expect(masked).not.toContain('7946 0958');
    expect(masked).not.toContain('4111 1111');
    expect(masked).toContain('[email]');
    expect(masked).toContain('`▂▂█`'); // no chart URL: the sparkline stands in
    expect(masked).not.toContain('"type":"image"');
    const plain = JSON.stringify(buildCrisisAlertCard(view, { maskPii: false }).blocks);
    expect(plain).toContain('dana.k@example.com');

    const url = 'https://earshot.example/reports/chart.png?trend=1%2C2%2C12&step=15&sig=abc';
    const charted = buildCrisisAlertCard(view, { chartUrl: url });
    const image = charted.blocks.find((b) => b.type === 'image');
    expect(image).toMatchObject({ image_url: url, alt_text: 'Posts per 15 minutes, oldest first: 1, 2, 12' });
    expect(JSON.stringify(charted.blocks)).not.toContain('▂▂█');
  });
});
