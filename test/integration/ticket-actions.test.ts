import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { outbox, replies, tags as tagCatalog } from '../../src/db/schema/index.js';
import { isAppError } from '../../src/errors.js';
import {
  assignTicket,
  claimTicket,
  closeTicket,
  correctTriage,
  deescalateTicket,
  escalateTicket,
  markSpam,
  recordReply,
  reopenTicket,
  resolveTicket,
  tagTicket,
  unclaimTicket,
  untagTicket,
} from '../../src/tickets/actions.js';
import { getTimeline } from '../../src/tickets/queries.js';
import { describeEachDatabase } from '../helpers/database.js';
import { inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';

const ana = userActor('UANA', 'agent');
const ben = userActor('UBEN', 'agent');
const lead = userActor('ULEAD', 'lead');
const viewer = userActor('UVIEW', 'viewer');

async function expectCode(promise: Promise<unknown>, code: string) {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isAppError(err) ? err.code : err).toBe(code);
  return err as Error;
}

describeEachDatabase('ticket actions', (handle) => {
  async function newTicket() {
    const db = handle().db;
    const source = await seedSource(db);
    const { ticket } = await ingestFixture(
      db,
      inboundFixture(source.id, { author: { externalId: `a-${Math.random()}` } }),
    );
    return ticket;
  }

  it('claims once, treats a repeat by the same agent as a no-op, refuses a second agent', async () => {
    const { db } = handle();
    const ticket = await newTicket();
    const first = await claimTicket(db, ana, { ticketId: ticket.id });
    expect(first.ticket.status).toBe('claimed');
    expect(first.ticket.assignee).toBe('UANA');
    expect(first.event?.type).toBe('claimed');

    const again = await claimTicket(db, ana, { ticketId: ticket.id });
    expect(again).toMatchObject({ changed: false, event: null, ticket: { version: first.ticket.version } });

    const err = await expectCode(claimTicket(db, ben, { ticketId: ticket.id }), 'already_claimed');
    expect(err.message).toContain('<@UANA>');
    const timeline = await getTimeline(db, ticket.id);
    expect(timeline.filter((e) => e.type === 'claimed')).toHaveLength(1);
  });

  it('refuses users without the role and changes nothing', async () => {
    const { db } = handle();
    const ticket = await newTicket();
    await expectCode(claimTicket(db, viewer, { ticketId: ticket.id }), 'forbidden');
    await expectCode(assignTicket(db, ana, { ticketId: ticket.id, assignee: 'UBEN' }), 'forbidden');
    const timeline = await getTimeline(db, ticket.id);
    expect(timeline.map((e) => e.type)).toEqual(['created']);
  });

  it('unclaims own tickets; only leads unclaim others', async () => {
    const { db } = handle();
    const ticket = await newTicket();
    await claimTicket(db, ana, { ticketId: ticket.id });
    await expectCode(unclaimTicket(db, ben, { ticketId: ticket.id }), 'forbidden');
    const byLead = await unclaimTicket(db, lead, { ticketId: ticket.id });
    expect(byLead.ticket).toMatchObject({ status: 'new', assignee: null });
    expect(byLead.event?.details).toEqual({ previousAssignee: 'UANA' });
    // A second click finds it unclaimed already: nothing to do, and no error.
    const again = await unclaimTicket(db, ana, { ticketId: ticket.id });
    expect(again).toMatchObject({ changed: false, event: null });
    expect((await getTimeline(db, ticket.id)).map((e) => e.type)).toEqual(['created', 'claimed', 'unclaimed']);
  });

  it('assigns: leads to anyone, agents only to themselves', async () => {
    const { db } = handle();
    const ticket = await newTicket();
    const self = await assignTicket(db, ben, { ticketId: ticket.id, assignee: 'UBEN' });
    expect(self.ticket).toMatchObject({ status: 'claimed', assignee: 'UBEN' });
    const moved = await assignTicket(db, lead, { ticketId: ticket.id, assignee: 'UANA' });
    expect(moved.ticket.assignee).toBe('UANA');
    expect(moved.event?.details).toEqual({ from: 'UBEN', to: 'UANA' });
    await expectCode(assignTicket(db, lead, { ticketId: ticket.id, assignee: '<!channel>' }), 'invalid_input');
    // Assigning to yourself is a claim: an agent cannot take a ticket someone else holds that way.
    const err = await expectCode(assignTicket(db, ben, { ticketId: ticket.id, assignee: 'UBEN' }), 'already_claimed');
    expect(err.message).toContain('<@UANA>');
    expect((await assignTicket(db, lead, { ticketId: ticket.id, assignee: 'ULEAD' })).ticket.assignee).toBe('ULEAD');
  });

  it('tags and untags, adding new tags to the catalogue', async () => {
    const { db } = handle();
    const ticket = await newTicket();
    const tagged = await tagTicket(db, ana, { ticketId: ticket.id, tags: ['Refund', '#shipping'] });
    expect(tagged.ticket.tags).toEqual(['refund', 'shipping']);
    expect((await tagTicket(db, ana, { ticketId: ticket.id, tags: ['refund'] })).event).toBeNull();
    const catalogue = await db.select().from(tagCatalog);
    expect(catalogue.map((t) => t.name)).toEqual(expect.arrayContaining(['refund', 'shipping']));
    const untagged = await untagTicket(db, ana, { ticketId: ticket.id, tags: ['refund'] });
    expect(untagged.ticket.tags).toEqual(['shipping']);
    await expectCode(tagTicket(db, ana, { ticketId: ticket.id, tags: ['<@U123>'] }), 'invalid_input');
  });

  it('escalates with a reason; lowering the tier is for leads', async () => {
    const { db } = handle();
    const ticket = await newTicket();
    await expectCode(escalateTicket(db, ana, { ticketId: ticket.id, tier: 2, reason: ' ' }), 'invalid_input');
    await expectCode(escalateTicket(db, ana, { ticketId: ticket.id, tier: 4, reason: 'x' }), 'invalid_input');
    const up = await escalateTicket(db, ana, {
      ticketId: ticket.id,
      tier: 2,
      reason: 'refund over $500',
      notify: 'S_BILLING',
    });
    expect(up.ticket).toMatchObject({ escalationTier: 2, escalationReason: 'refund over $500', status: 'new' });
    await expectCode(escalateTicket(db, ana, { ticketId: ticket.id, tier: 1, reason: 'less' }), 'forbidden');
    await expectCode(deescalateTicket(db, ana, { ticketId: ticket.id }), 'forbidden');
    const down = await deescalateTicket(db, lead, { ticketId: ticket.id });
    expect(down.ticket.escalationTier).toBe(1);
    const cleared = await deescalateTicket(db, lead, { ticketId: ticket.id, tier: 0 });
    expect(cleared.ticket).toMatchObject({ escalationTier: 0, escalationReason: null });
  });

  it('records a reply once per idempotency key, sets first response once, and waits on the customer', async () => {
    const { db } = handle();
    const ticket = await newTicket();
    const t0 = new Date(Date.now() + 1000);
    const first = await recordReply(db, ana, {
      ticketId: ticket.id,
      text: 'Sorry! DM us your order number.',
      parts: ['Sorry! DM us your order number.'],
      idempotencyKey: 'view-1',
      now: t0,
    });
    expect(first.ticket).toMatchObject({ status: 'waiting', assignee: 'UANA' });
    expect(first.ticket.firstResponseAt?.getTime()).toBe(t0.getTime());
    expect(first.ticket.slaPausedAt?.getTime()).toBe(t0.getTime());
    expect(first.reply).toMatchObject({ status: 'pending', parts: ['Sorry! DM us your order number.'] });
    expect(first.changed).toBe(true);
    // The event is written once, already pointing at its reply (events are never updated).
    expect(first.event?.details).toEqual({
      text: 'Sorry! DM us your order number.',
      parts: 1,
      replyId: first.reply.id,
    });
    const [stored] = (await getTimeline(db, ticket.id)).filter((e) => e.type === 'replied');
    expect(stored?.details).toEqual(first.event?.details);

    const repeat = await recordReply(db, ana, {
      ticketId: ticket.id,
      text: 'Sorry! DM us your order number.',
      parts: ['x'],
      idempotencyKey: 'view-1',
    });
    expect(repeat).toMatchObject({ changed: false, event: null, reply: { id: first.reply.id } });
    expect(await db.select().from(replies).where(eq(replies.ticketId, ticket.id))).toHaveLength(1);

    const second = await recordReply(db, ana, {
      ticketId: ticket.id,
      text: 'Any news?',
      parts: ['Any news?'],
      idempotencyKey: 'view-2',
      now: new Date(t0.getTime() + 60_000),
    });
    expect(second.ticket.firstResponseAt?.getTime()).toBe(t0.getTime());
    await expectCode(
      recordReply(db, ben, { ticketId: ticket.id, text: 'hi', parts: ['hi'], idempotencyKey: 'view-3' }),
      'already_claimed',
    );
    await expectCode(
      recordReply(db, ana, { ticketId: ticket.id, text: '  ', parts: [], idempotencyKey: 'view-4' }),
      'invalid_input',
    );
  });

  it('resolves, treats a second Resolve as a no-op, reopens and closes', async () => {
    const { db } = handle();
    const ticket = await newTicket();
    await claimTicket(db, ana, { ticketId: ticket.id });
    const resolved = await resolveTicket(db, ana, { ticketId: ticket.id });
    expect(resolved).toMatchObject({ changed: true, ticket: { status: 'resolved' } });
    expect(resolved.ticket.resolvedAt).not.toBeNull();
    const twice = await resolveTicket(db, ana, { ticketId: ticket.id });
    expect(twice).toMatchObject({
      changed: false,
      event: null,
      ticket: { status: 'resolved', version: resolved.ticket.version },
    });
    // Resolved is not open: a claim is refused by the lifecycle, not as "already claimed".
    const err = await expectCode(claimTicket(db, ben, { ticketId: ticket.id }), 'invalid_transition');
    expect(err.message).toContain('Reopen it first');
    const reopened = await reopenTicket(db, ana, { ticketId: ticket.id });
    expect(reopened.ticket).toMatchObject({ status: 'claimed', resolvedAt: null });
    expect((await reopenTicket(db, ana, { ticketId: ticket.id })).changed).toBe(false);
    const closed = await closeTicket(db, ana, { ticketId: ticket.id });
    expect(closed.ticket.status).toBe('closed');
    expect(closed.ticket.closedAt).not.toBeNull();
    expect((await getTimeline(db, ticket.id)).map((e) => e.type)).toEqual([
      'created',
      'claimed',
      'resolved',
      'reopened',
      'closed',
    ]);
  });

  it('marks spam as closed and flagged', async () => {
    const { db } = handle();
    const ticket = await newTicket();
    const spam = await markSpam(db, ana, { ticketId: ticket.id });
    expect(spam.ticket).toMatchObject({ status: 'closed', spam: 1 });
  });

  it('records triage corrections and moves the SLA with the priority', async () => {
    const { db } = handle();
    const ticket = await newTicket();
    const corrected = await correctTriage(db, ana, {
      ticketId: ticket.id,
      correction: { category: 'bug_report', priority: 'P1', sentiment: 'negative' },
    });
    expect(corrected.ticket).toMatchObject({
      category: 'bug_report',
      priority: 'P1',
      priorityReasons: ['set by an agent'],
    });
    expect(corrected.event?.details).toEqual({ fields: ['category', 'priority'] });
    expect(corrected.event?.before).toMatchObject({ category: 'complaint', priority: 'P3' });
    const due = corrected.ticket.firstResponseDueAt!.getTime() - corrected.ticket.createdAt.getTime();
    expect(due).toBe(60 * 60_000);
    expect((await correctTriage(db, ana, { ticketId: ticket.id, correction: { priority: 'P1' } })).event).toBeNull();
  });

  it('returns not_found for a missing ticket', async () => {
    await expectCode(claimTicket(handle().db, ana, { ticketId: 999_999 }), 'not_found');
  });

  it('queues one card refresh per ticket and one thread line per event, in the same transaction', async () => {
    const { db } = handle();
    const ticket = await newTicket();
    await claimTicket(db, ana, { ticketId: ticket.id });
    await tagTicket(db, ana, { ticketId: ticket.id, tags: ['vip'] });
    const rows = await db.select().from(outbox).where(eq(outbox.ticketId, ticket.id));
    const cards = rows.filter((r) => r.kind === 'card');
    const threads = rows.filter((r) => r.kind === 'thread');
    expect(cards).toHaveLength(1);
    expect(cards[0]?.payload).toEqual({ version: 3 });
    expect(threads).toHaveLength(2);
    const timeline = await getTimeline(db, ticket.id);
    expect(threads.map((t) => t.eventId).sort()).toEqual(
      timeline
        .filter((e) => e.type !== 'created')
        .map((e) => e.id)
        .sort(),
    );
  });
});
