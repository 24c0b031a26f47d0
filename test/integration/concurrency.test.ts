import { and, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { agents, items, outbox, replies, ticketEvents, tickets } from '../../src/db/schema/index.js';
import { isAppError } from '../../src/errors.js';
import { processBatch } from '../../src/ingest/process-batch.js';
import { storeItem } from '../../src/ingest/store-item.js';
import { claimTicket, recordReply } from '../../src/tickets/actions.js';
import { resolveActor } from '../../src/tickets/agents.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';

// Row-lock races only exist on a real server (PGlite is one connection), so these run on PostgreSQL only.
describeEachDatabase(
  'concurrency',
  (handle) => {
    it('lets exactly one of 50 simultaneous claims win', async () => {
      const { db } = handle();
      const source = await seedSource(db);
      const { ticket } = await ingestFixture(db, inboundFixture(source.id, { author: { externalId: 'race-claim' } }));
      const agents = Array.from({ length: 50 }, (_, i) => userActor(`URACE${i}`));
      const results = await Promise.allSettled(agents.map((agent) => claimTicket(db, agent, { ticketId: ticket.id })));
      const winners = results.filter((r) => r.status === 'fulfilled');
      const losers = results.filter((r) => r.status === 'rejected');
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(49);
      for (const loser of losers)
        expect(isAppError((loser as PromiseRejectedResult).reason, 'already_claimed')).toBe(true);
      const [row] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
      const winner = (winners[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof claimTicket>>>).value;
      expect(row?.assignee).toBe(winner.ticket.assignee);
      const claims = await db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, ticket.id));
      expect(claims.filter((e) => e.type === 'claimed')).toHaveLength(1);
    });

    it('stores one item and one ticket when the same post arrives 30 times at once', async () => {
      const { db } = handle();
      const source = await seedSource(db);
      const inbound = inboundFixture(source.id, { externalId: 'dup-burst', author: { externalId: 'race-ingest' } });
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, () => ingestFixture(db, inbound, assessmentFixture())),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const stored = await db.select().from(items).where(eq(items.externalId, 'dup-burst'));
      expect(stored).toHaveLength(1);
      // One ticket for this author on this source: no loser of the race opened a second one.
      const opened = await db
        .select()
        .from(tickets)
        .where(and(eq(tickets.authorId, stored[0]!.authorId), eq(tickets.sourceId, source.id)));
      expect(opened.map((t) => t.id)).toEqual([stored[0]!.ticketId]);
      expect(opened[0]?.itemCount).toBe(1);
      const ticketIds = new Set(
        results.map((r) => (r as PromiseFulfilledResult<{ ticket: { id: number } }>).value.ticket.id),
      );
      expect(ticketIds.size).toBe(1);
      const events = await db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, stored[0]!.ticketId!));
      expect(events.map((e) => e.type)).toEqual(['created']);
    });

    it('stores the same post once, and makes it one ticket, when receipts and batches race', async () => {
      const { db } = handle();
      const source = await seedSource(db);
      const inbound = inboundFixture(source.id, { externalId: 'batch-burst', author: { externalId: 'race-batch' } });
      const stored = await Promise.all(
        Array.from({ length: 30 }, () => storeItem(db, inbound, { maxTextLength: 1000 })),
      );
      expect(stored.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(stored.map((r) => r.item.id)).size).toBe(1);
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          processBatch(db, [{ item: stored[0]!.item, assessment: assessmentFixture() }], { groupingWindowMinutes: 60 }),
        ),
      );
      expect(results.flat().filter((r) => r?.outcome === 'opened')).toHaveLength(1);
      expect(new Set(results.flat().map((r) => r?.ticket.id)).size).toBe(1);
      expect(await db.select().from(items).where(eq(items.externalId, 'batch-burst'))).toHaveLength(1);
    });

    it('groups 20 different posts of one conversation, arriving at once, into one ticket', async () => {
      const { db } = handle();
      const source = await seedSource(db);
      const posts = Array.from({ length: 20 }, (_, i) =>
        inboundFixture(source.id, {
          externalId: `conv-burst-${i}`,
          conversationId: 'burst-thread',
          author: { externalId: 'burst-author' },
        }),
      );
      const results = await Promise.all(posts.map((post) => ingestFixture(db, post, assessmentFixture())));
      expect(new Set(results.map((r) => r.ticket.id)).size).toBe(1);
      const [ticket] = await db.select().from(tickets).where(eq(tickets.id, results[0]!.ticket.id));
      expect(ticket?.itemCount).toBe(20);
    });

    it('registers a first-time user once under concurrent first requests', async () => {
      const { db } = handle();
      const bootstrap = { admins: ['UBOOT'], defaultRole: 'agent' as const };
      const actors = await Promise.all(
        Array.from({ length: 20 }, () => resolveActor(db, 'UNEWBIE', bootstrap, { displayName: 'Newbie' })),
      );
      expect(new Set(actors.map((a) => (a.kind === 'user' ? a.role : 'x')))).toEqual(new Set(['agent']));
      expect(await db.select().from(agents).where(eq(agents.slackUserId, 'UNEWBIE'))).toMatchObject([
        { role: 'agent', roleSetBy: null, displayName: 'Newbie' },
      ]);
      expect(await resolveActor(db, 'UBOOT', bootstrap)).toEqual({ kind: 'user', userId: 'UBOOT', role: 'admin' });
      const owners = await Promise.all(
        Array.from({ length: 10 }, () => resolveActor(db, 'UOWNER', bootstrap, { isWorkspaceAdmin: true })),
      );
      expect(new Set(owners.map((a) => (a.kind === 'user' ? a.role : 'x')))).toEqual(new Set(['admin']));
    });

    it('records one reply when the same submission arrives three (and ten) times at once', async () => {
      const { db } = handle();
      const source = await seedSource(db);
      for (const copies of [3, 10]) {
        const { ticket } = await ingestFixture(
          db,
          inboundFixture(source.id, { author: { externalId: `race-reply-${copies}` } }),
        );
        const key = `view-race-${copies}`;
        const results = await Promise.allSettled(
          Array.from({ length: copies }, () =>
            recordReply(db, userActor('UREPLY'), {
              ticketId: ticket.id,
              text: 'On it',
              parts: ['On it'],
              idempotencyKey: key,
            }),
          ),
        );
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
        const values = results.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof recordReply>>>).value);
        expect(values.filter((v) => v.changed)).toHaveLength(1);
        expect(new Set(values.map((v) => v.reply.id)).size).toBe(1);
        expect(await db.select().from(replies).where(eq(replies.idempotencyKey, key))).toHaveLength(1);
        const events = await db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, ticket.id));
        expect(events.map((e) => e.type)).toEqual(['created', 'replied']);
        expect(events[1]?.details).toMatchObject({ replyId: values[0]!.reply.id });
        const threads = await db
          .select()
          .from(outbox)
          .where(and(eq(outbox.ticketId, ticket.id), eq(outbox.kind, 'thread')));
        expect(threads.map((t) => t.eventId)).toEqual([events[1]!.id]);
      }
    });
  },
  ['postgres'],
);
