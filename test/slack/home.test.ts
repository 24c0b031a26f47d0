import type { KnownBlock } from '@slack/types';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { tickets } from '../../src/db/schema/index.js';
import type { TicketExcerpt } from '../../src/reports/excerpts.js';
import { getPersonalQueue } from '../../src/reports/personal-queue.js';
import { SEED } from '../../src/sandbox/index.js';
import { buildHomeView } from '../../src/slack/blocks/home.js';
import { ticketLine } from '../../src/slack/blocks/ticket-list.js';
import { ACTIONS } from '../../src/slack/ids.js';
import { claimTicket } from '../../src/tickets/actions.js';
import type { Ticket } from '../../src/tickets/types.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';
import { startSlackHarness } from './harness.js';

const NOW = new Date('2026-03-02T12:00:00Z');

function ticket(id: number, overrides: Partial<Ticket> = {}): Ticket {
  return {
    id,
    sourceId: 1,
    authorId: 1,
    conversationId: null,
    status: 'new',
    priority: 'P2',
    priorityReasons: [],
    category: 'bug_report',
    sentiment: 'negative',
    sentimentScore: -0.5,
    language: 'en',
    topics: [],
    tags: [],
    triage: {},
    spam: 0,
    assignee: null,
    escalationTier: 0,
    escalationReason: null,
    incidentId: null,
    channel: 'C1',
    slackTs: null,
    itemCount: 1,
    lastCustomerMessageAt: NOW,
    firstResponseDueAt: new Date(NOW.getTime() + 20 * 60_000),
    resolutionDueAt: null,
    firstResponseAt: null,
    resolvedAt: null,
    closedAt: null,
    slaPausedAt: null,
    slaPausedSeconds: 0,
    firstResponseSla: 'ok',
    resolutionSla: 'ok',
    version: 1,
    createdAt: new Date(NOW.getTime() - 2 * 3600_000),
    updatedAt: NOW,
    ...overrides,
  };
}

const hostile: TicketExcerpt = {
  handle: '<!here>',
  displayName: null,
  vip: true,
  text: '<!channel> refund now <@U999> <https://evil|bank.com> card 4111 1111 1111 1111',
  triage: null,
};

function texts(blocks: readonly unknown[]): string {
  return JSON.stringify(blocks);
}

describe('App Home', () => {
  it('shows SLA warnings, my tickets and the unclaimed queue, with a refresh button', () => {
    const view = buildHomeView({
      queue: {
        now: NOW,
        mine: [ticket(1, { assignee: 'UANA', status: 'claimed' })],
        unclaimed: [ticket(2, { priority: 'P1' }), ticket(3)],
        slaWarnings: [ticket(4, { firstResponseDueAt: new Date(NOW.getTime() - 5 * 60_000) })],
        totals: { mine: 1, unclaimed: 2, slaWarnings: 1 },
      },
      excerpts: new Map([
        [2, hostile],
        [3, { ...hostile, handle: 'plain_pat', vip: false }],
      ]),
      maskPii: true,
    });
    expect(view.type).toBe('home');
    const json = texts(view.blocks);
    expect(json).toContain(ACTIONS.homeRefresh);
    expect(json).toContain('SLA warnings (1)');
    expect(json).toContain('My tickets (1)');
    expect(json).toContain('Unclaimed queue (2)');
    expect(json).toContain('first reply overdue by 5m');
    expect(json).toContain('first reply due in 20m');
    expect(json).toContain(':star: @&lt;!here&gt;: ');
    expect(json).toContain('\\n@plain_pat: ');
    expect(json.match(/:star:/g)).toHaveLength(1);
    for (const bad of ['<!channel>', '<!here>', '<@U999>', '<https://evil', '4111 1111'])
      expect(json).not.toContain(bad);
    const openButtons = (view.blocks as KnownBlock[]).filter(
      (b) => b.type === 'section' && b.accessory?.type === 'button',
    );
    expect(openButtons).toHaveLength(4);
    expect(json).not.toContain('most urgent of');
  });

  it('counts the whole list in its header when it shows only the first tickets, and says where the rest are', () => {
    const view = buildHomeView({
      queue: {
        now: NOW,
        mine: [ticket(1, { assignee: 'UANA', status: 'claimed' })],
        unclaimed: [ticket(2), ticket(3)],
        slaWarnings: [ticket(4)],
        totals: { mine: 1, unclaimed: 62, slaWarnings: 23 },
      },
      excerpts: new Map(),
      maskPii: true,
    });
    const json = texts(view.blocks);
    expect(json).toContain('Unclaimed queue (62)');
    expect(json).toContain('The 2 most urgent of 62; `/earshot queue` lists more.');
    expect(json).toContain('SLA warnings (23)');
    expect(json).toContain('The 1 due soonest of 23.');
    expect(json).toContain('My tickets (1)');
    expect(json).not.toContain('/earshot mine');
  });

  it('says so when lists are empty and stays within 100 blocks when they are long', () => {
    const empty = buildHomeView({
      queue: { now: NOW, mine: [], unclaimed: [], slaWarnings: [], totals: { mine: 0, unclaimed: 0, slaWarnings: 0 } },
      excerpts: new Map(),
      maskPii: false,
    });
    expect(texts(empty.blocks)).toContain('You hold no open tickets.');
    const many = Array.from({ length: 60 }, (_, i) => ticket(i + 1));
    const full = buildHomeView({
      queue: {
        now: NOW,
        mine: many,
        unclaimed: many,
        slaWarnings: many,
        totals: { mine: 60, unclaimed: 60, slaWarnings: 60 },
      },
      excerpts: new Map(),
      maskPii: false,
    });
    expect(full.blocks.length).toBeLessThanOrEqual(100);
    expect(texts(full.blocks.slice(-1))).toContain('not shown');
  });

  it('writes one line per ticket with holder, age and escalation', () => {
    const line = ticketLine(ticket(8, { assignee: 'UBEN', escalationTier: 2 }), undefined, NOW);
    expect(line).toContain('*#8*');
    expect(line).toContain('<@UBEN>');
    expect(line).toContain('2h 00m old');
    expect(line).toContain('tier 2');
  });
});

describeEachDatabase('App Home SLA warnings', (handle) => {
  it('cover resolution due times and clocks the SLA sweep flagged, not only first responses', async () => {
    const db = handle().db;
    const source = await seedSource(db);
    const now = new Date();
    const make = async (name: string, patch: Partial<Ticket>) => {
      const { ticket } = await ingestFixture(
        db,
        inboundFixture(source.id, { author: { externalId: name, handle: name } }),
        assessmentFixture({ channel: 'earshot-feedback', priority: 'P3' }),
      );
      await db.update(tickets).set(patch).where(eq(tickets.id, ticket.id));
      return ticket.id;
    };
    const answered = { firstResponseAt: now, firstResponseDueAt: new Date(now.getTime() - 3600_000) };
    const resolutionSoon = await make('soon', { ...answered, resolutionDueAt: new Date(now.getTime() + 10 * 60_000) });
    const resolutionFlagged = await make('flagged', {
      ...answered,
      resolutionDueAt: new Date(now.getTime() + 30 * 3600_000),
      resolutionSla: 'warning',
    });
    const fine = await make('fine', { ...answered, resolutionDueAt: new Date(now.getTime() + 30 * 3600_000) });
    const firstSoon = await make('first', { firstResponseDueAt: new Date(now.getTime() + 5 * 60_000) });

    const queue = await getPersonalQueue(db, { userId: SEED.users.agent1, now });
    const ids = queue.slaWarnings.map((t) => t.id);
    expect(ids).toEqual([firstSoon, resolutionSoon, resolutionFlagged]);
    expect(ids).not.toContain(fine);
    const soon = queue.slaWarnings.find((t) => t.id === resolutionSoon)!;
    expect(ticketLine(soon, undefined, now)).toContain('resolution due in 10m');
    const home = JSON.stringify(buildHomeView({ queue, excerpts: new Map(), maskPii: true }).blocks);
    expect(home).toContain('SLA warnings (3)');

    // Cut to its first two, each list still counts every ticket it would hold.
    await db.update(tickets).set({ assignee: SEED.users.agent1, status: 'claimed' }).where(eq(tickets.id, fine));
    const short = await getPersonalQueue(db, { userId: SEED.users.agent1, now, limit: 2 });
    expect(short.slaWarnings.map((t) => t.id)).toEqual([firstSoon, resolutionSoon]);
    expect(short.unclaimed).toHaveLength(2);
    expect(short.mine.map((t) => t.id)).toEqual([fine]);
    expect(short.totals).toEqual({ mine: 1, unclaimed: 3, slaWarnings: 3 });
  });
});

describe('App Home through the real Bolt receiver and the sandbox Slack', () => {
  it('publishes the personal queue on app_home_opened, refreshes, and opens a ticket', async () => {
    const h = await startSlackHarness();
    try {
      const db = h.earshot.context.db;
      const source = await seedSource(db);
      const make = async (text: string, priority: 'P1' | 'P3') =>
        (
          await ingestFixture(
            db,
            inboundFixture(source.id, { text, author: { externalId: `h-${Math.random()}`, handle: 'hana' } }),
            assessmentFixture({ channel: 'earshot-feedback', priority }),
          )
        ).ticket;
      const mine = await make('my ticket', 'P3');
      const urgent = await make('site down <!here>', 'P1');
      await claimTicket(db, userActor(SEED.users.agent1, 'agent'), { ticketId: mine.id });
      const ana = h.sandbox.as(SEED.users.agent1);
      expect((await ana.openHome()).status).toBe(200);
      const home = ana.home();
      const json = JSON.stringify(home?.blocks);
      expect(json).toContain('My tickets (1)');
      expect(json).toContain(`*#${mine.id}*`);
      expect(json).toContain(`*#${urgent.id}*`);
      expect(json).toContain('&lt;!here&gt;');
      expect(json).toContain('SLA warnings');

      await claimTicket(db, userActor(SEED.users.agent1, 'agent'), { ticketId: urgent.id });
      const publishes = h.sandbox.workspace.callsTo('views.publish').length;
      await ana.clickButton({ viewId: home!.id }, ACTIONS.homeRefresh);
      expect(h.sandbox.workspace.callsTo('views.publish')).toHaveLength(publishes + 1);
      expect(JSON.stringify(ana.home()?.blocks)).toContain('My tickets (2)');

      await ana.clickButton({ viewId: ana.home()!.id }, ACTIONS.homeOpenTicket);
      expect(ana.currentView()?.callback_id).toBe('full_text_modal');
    } finally {
      await h.close();
    }
  });
});
