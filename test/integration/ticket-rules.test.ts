import { asc, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { outbox, replies, tickets } from '../../src/db/schema/index.js';
import { isAppError } from '../../src/errors.js';
import {
  type ActionResult,
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
import type { Actor, Role } from '../../src/tickets/types.js';
import { describeEachDatabase } from '../helpers/database.js';
import { inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';

const ana = userActor('UANA', 'agent');
const ben = userActor('UBEN', 'agent');
const lead = userActor('ULEAD', 'lead');
const as = (role: Role): Actor => userActor(`U${role.toUpperCase()}X`, role);

/** Everything an action may write: the ticket row, its timeline, its outbox rows, its replies. */
async function snapshot(db: Database, ticketId: number) {
  return {
    ticket: (await db.select().from(tickets).where(eq(tickets.id, ticketId)))[0],
    timeline: await getTimeline(db, ticketId),
    outbox: await db.select().from(outbox).where(eq(outbox.ticketId, ticketId)).orderBy(asc(outbox.id)),
    replies: await db.select().from(replies).where(eq(replies.ticketId, ticketId)).orderBy(asc(replies.id)),
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'succeeded',
    (err: unknown) => (isAppError(err) ? err.code : `not an AppError: ${String(err)}`),
  );
}

let keys = 0;
const reply = (db: Database, actor: Actor, ticketId: number, idempotencyKey = `key-${++keys}`) =>
  recordReply(db, actor, { ticketId, text: 'On it.', parts: ['On it.'], idempotencyKey });

type Run = (db: Database, actor: Actor, ticketId: number) => Promise<unknown>;

/** Each service function, as a click of it. */
const ACTIONS: Record<string, Run> = {
  claim: (db, actor, ticketId) => claimTicket(db, actor, { ticketId }),
  unclaim: (db, actor, ticketId) => unclaimTicket(db, actor, { ticketId }),
  assignToBen: (db, actor, ticketId) => assignTicket(db, actor, { ticketId, assignee: 'UBEN' }),
  assignToSelf: (db, actor, ticketId) =>
    assignTicket(db, actor, { ticketId, assignee: actor.kind === 'user' ? actor.userId : 'UNOBODY' }),
  tag: (db, actor, ticketId) => tagTicket(db, actor, { ticketId, tags: ['refund'] }),
  untag: (db, actor, ticketId) => untagTicket(db, actor, { ticketId, tags: ['vip'] }),
  escalate: (db, actor, ticketId) => escalateTicket(db, actor, { ticketId, tier: 3, reason: 'press' }),
  escalateDown: (db, actor, ticketId) => escalateTicket(db, actor, { ticketId, tier: 1, reason: 'calmer' }),
  deescalate: (db, actor, ticketId) => deescalateTicket(db, actor, { ticketId }),
  reply: (db, actor, ticketId) => reply(db, actor, ticketId),
  resolve: (db, actor, ticketId) => resolveTicket(db, actor, { ticketId }),
  reopen: (db, actor, ticketId) => reopenTicket(db, actor, { ticketId }),
  close: (db, actor, ticketId) => closeTicket(db, actor, { ticketId }),
  spam: (db, actor, ticketId) => markSpam(db, actor, { ticketId }),
  correct: (db, actor, ticketId) => correctTriage(db, actor, { ticketId, correction: { category: 'bug_report' } }),
};

describeEachDatabase('ticket rules: refusals and repeats', (handle) => {
  /** An open ticket held by Ana, tagged vip, escalated to tier 2; or resolved/closed afterwards. */
  async function ticketIn(state: 'new' | 'claimed' | 'resolved' | 'closed') {
    const { db } = handle();
    const source = await seedSource(db);
    const { ticket } = await ingestFixture(
      db,
      inboundFixture(source.id, { author: { externalId: `rules-${Math.random()}` } }),
    );
    await tagTicket(db, lead, { ticketId: ticket.id, tags: ['vip'] });
    await escalateTicket(db, lead, { ticketId: ticket.id, tier: 2, reason: 'loud' });
    if (state !== 'new') await claimTicket(db, ana, { ticketId: ticket.id });
    if (state === 'resolved') await resolveTicket(db, ana, { ticketId: ticket.id });
    if (state === 'closed') await closeTicket(db, ana, { ticketId: ticket.id });
    return ticket.id;
  }

  // What each role may not do, on a ticket where the action would otherwise go through, and who may.
  const REFUSALS: [
    action: keyof typeof ACTIONS,
    state: 'new' | 'claimed' | 'resolved',
    refused: Actor,
    allowed: Actor,
  ][] = [
    ['claim', 'new', as('viewer'), as('agent')],
    ['unclaim', 'claimed', as('viewer'), ana],
    ['unclaim', 'claimed', ben, lead],
    ['assignToBen', 'new', as('viewer'), lead],
    ['assignToBen', 'new', as('agent'), lead],
    ['assignToSelf', 'new', as('viewer'), as('agent')],
    ['tag', 'new', as('viewer'), as('agent')],
    ['untag', 'new', as('viewer'), as('agent')],
    ['escalate', 'new', as('viewer'), as('agent')],
    ['escalateDown', 'new', as('viewer'), lead],
    ['escalateDown', 'new', as('agent'), lead],
    ['deescalate', 'new', as('viewer'), lead],
    ['deescalate', 'new', as('agent'), lead],
    ['reply', 'new', as('viewer'), as('agent')],
    ['resolve', 'claimed', as('viewer'), as('agent')],
    ['reopen', 'resolved', as('viewer'), as('agent')],
    ['close', 'claimed', as('viewer'), as('agent')],
    ['spam', 'new', as('viewer'), as('agent')],
    ['correct', 'new', as('viewer'), as('agent')],
  ];

  it.each(REFUSALS)('refuses %s (ticket %s) to %o, changing nothing', async (action, state, refused) => {
    const { db } = handle();
    const ticketId = await ticketIn(state);
    const before = await snapshot(db, ticketId);
    expect(await codeOf(ACTIONS[action]!(db, refused, ticketId))).toBe('forbidden');
    expect(await snapshot(db, ticketId)).toEqual(before);
  });

  it('lets the role that holds the permission do each refused action, so the refusals are about the role', async () => {
    const { db } = handle();
    for (const [action, state, , allowed] of REFUSALS) {
      const ticketId = await ticketIn(state);
      const before = await snapshot(db, ticketId);
      expect(`${action}: ${await codeOf(ACTIONS[action]!(db, allowed, ticketId))}`).toBe(`${action}: succeeded`);
      expect((await snapshot(db, ticketId)).timeline.length).toBe(before.timeline.length + 1);
    }
  });

  // Not allowed from the ticket's status: invalid_transition, even when the action would change nothing.
  const ILLEGAL: [action: string, state: 'resolved' | 'closed', run: Run][] = [
    ['claim by its assignee', 'closed', (db, _a, id) => claimTicket(db, ana, { ticketId: id })],
    [
      'claim by someone else (not "already claimed")',
      'resolved',
      (db, _a, id) => claimTicket(db, ben, { ticketId: id }),
    ],
    ['unclaim by its assignee', 'closed', (db, _a, id) => unclaimTicket(db, ana, { ticketId: id })],
    [
      'assign to its current assignee',
      'closed',
      (db, _a, id) => assignTicket(db, lead, { ticketId: id, assignee: 'UANA' }),
    ],
    ['assign to someone else', 'resolved', (db, _a, id) => assignTicket(db, lead, { ticketId: id, assignee: 'UBEN' })],
    [
      'the same escalation',
      'closed',
      (db, _a, id) => escalateTicket(db, ana, { ticketId: id, tier: 2, reason: 'loud' }),
    ],
    [
      'a higher escalation',
      'resolved',
      (db, _a, id) => escalateTicket(db, ana, { ticketId: id, tier: 3, reason: 'x' }),
    ],
    ['de-escalate', 'closed', (db, _a, id) => deescalateTicket(db, lead, { ticketId: id })],
    ['reply by its assignee', 'closed', (db, _a, id) => reply(db, ana, id)],
    ['reply by someone else (not "already claimed")', 'resolved', (db, _a, id) => reply(db, ben, id)],
    ['resolve a closed ticket', 'closed', (db, _a, id) => resolveTicket(db, ana, { ticketId: id })],
    ['mark a closed ticket as spam', 'closed', (db, _a, id) => markSpam(db, ana, { ticketId: id })],
  ];

  it.each(ILLEGAL)('refuses %s on a %s ticket as invalid_transition, changing nothing', async (_name, state, run) => {
    const { db } = handle();
    const ticketId = await ticketIn(state);
    const before = await snapshot(db, ticketId);
    expect(await codeOf(run(db, ana, ticketId))).toBe('invalid_transition');
    expect(await snapshot(db, ticketId)).toEqual(before);
  });

  // A legal repeat whose outcome already holds: success, no event, no outbox row, `changed: false`.
  const REPEATS: [action: string, state: 'new' | 'claimed' | 'resolved' | 'closed', run: Run][] = [
    ['Resolve on a resolved ticket', 'resolved', (db, _a, id) => resolveTicket(db, ana, { ticketId: id })],
    [
      'Resolve by someone else on a resolved ticket',
      'resolved',
      (db, _a, id) => resolveTicket(db, ben, { ticketId: id }),
    ],
    ['Reopen on an open ticket', 'claimed', (db, _a, id) => reopenTicket(db, ben, { ticketId: id })],
    ['Claim by the assignee', 'claimed', (db, _a, id) => claimTicket(db, ana, { ticketId: id })],
    ['Unclaim of a ticket nobody holds', 'new', (db, _a, id) => unclaimTicket(db, ben, { ticketId: id })],
    [
      'assign to the current assignee',
      'claimed',
      (db, _a, id) => assignTicket(db, lead, { ticketId: id, assignee: 'UANA' }),
    ],
    ['tags it already has', 'claimed', (db, _a, id) => tagTicket(db, ben, { ticketId: id, tags: ['VIP'] })],
    [
      'tags on a closed ticket it already has',
      'closed',
      (db, _a, id) => tagTicket(db, ben, { ticketId: id, tags: ['vip'] }),
    ],
    ['untag of a tag it lacks', 'claimed', (db, _a, id) => untagTicket(db, ben, { ticketId: id, tags: ['refund'] })],
    [
      'the same escalation',
      'claimed',
      (db, _a, id) => escalateTicket(db, ben, { ticketId: id, tier: 2, reason: 'loud' }),
    ],
    ['Close on a closed ticket', 'closed', (db, _a, id) => closeTicket(db, ana, { ticketId: id })],
    [
      'the same triage correction',
      'claimed',
      (db, _a, id) => correctTriage(db, ben, { ticketId: id, correction: { category: 'complaint' } }),
    ],
  ];

  it.each(REPEATS)('treats %s as a no-op that succeeds', async (_name, state, run) => {
    const { db } = handle();
    const ticketId = await ticketIn(state);
    const before = await snapshot(db, ticketId);
    const result = (await run(db, ana, ticketId)) as ActionResult;
    expect(result).toMatchObject({ changed: false, event: null });
    expect(result.ticket).toEqual(before.ticket);
    expect(await snapshot(db, ticketId)).toEqual(before);
  });

  it('treats de-escalating an unescalated ticket and marking spam twice as no-ops', async () => {
    const { db } = handle();
    const ticketId = await ticketIn('claimed');
    await deescalateTicket(db, lead, { ticketId, tier: 0 });
    const spam = await markSpam(db, ana, { ticketId });
    expect(spam.changed).toBe(true);
    const before = await snapshot(db, ticketId);
    expect(await markSpam(db, ben, { ticketId })).toMatchObject({ changed: false, event: null });
    expect(await snapshot(db, ticketId)).toEqual(before);
    // De-escalating is only for open tickets; on an open, unescalated one it is a no-op.
    const other = await ticketIn('new');
    await deescalateTicket(db, lead, { ticketId: other, tier: 0 });
    const open = await snapshot(db, other);
    expect(await deescalateTicket(db, lead, { ticketId: other })).toMatchObject({ changed: false, event: null });
    expect(await snapshot(db, other)).toEqual(open);
  });

  it('replays a resubmitted reply even after the ticket was resolved, recording nothing new', async () => {
    const { db } = handle();
    const ticketId = await ticketIn('claimed');
    const first = await reply(db, ana, ticketId, 'view-resubmitted');
    await resolveTicket(db, ana, { ticketId });
    const before = await snapshot(db, ticketId);
    const again = await reply(db, ana, ticketId, 'view-resubmitted');
    expect(again).toMatchObject({ changed: false, event: null, reply: { id: first.reply.id } });
    expect(await snapshot(db, ticketId)).toEqual(before);
  });

  it('refuses a reply to a ticket someone else holds, and a role check comes before the lifecycle', async () => {
    const { db } = handle();
    const held = await ticketIn('claimed');
    const before = await snapshot(db, held);
    expect(await codeOf(reply(db, ben, held))).toBe('already_claimed');
    expect(await codeOf(claimTicket(db, ben, { ticketId: held }))).toBe('already_claimed');
    expect(await snapshot(db, held)).toEqual(before);
    const closed = await ticketIn('closed');
    expect(await codeOf(resolveTicket(db, as('viewer'), { ticketId: closed }))).toBe('forbidden');
  });
});
