import { eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { outbox, tickets } from '../../src/db/schema/index.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource } from '../helpers/fixtures.js';

describeEachDatabase(
  'processing locks (real PostgreSQL)',
  (handle) => {
    it('takes no lock shared by every item without a conversation id', async () => {
      const { db } = handle();
      const source = await seedSource(db, 'locks-global');
      // Another transaction holds the key every such item used to wait on.
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked = () => {};
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const holder = db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('earshot:none'))`);
        locked();
        await released;
      });
      await isLocked;
      try {
        const processed = await Promise.race([
          ingestFixture(db, inboundFixture(source.id, { author: { externalId: 'lockless' } })),
          new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 10_000)),
        ]);
        expect(processed).not.toBe('blocked');
      } finally {
        release();
        await holder;
      }
    });

    it('still puts one author’s posts without a conversation id, arriving at once, on one ticket', async () => {
      const { db } = handle();
      const source = await seedSource(db, 'locks-author');
      const posts = Array.from({ length: 20 }, (_, i) =>
        inboundFixture(source.id, { externalId: `solo-${i}`, author: { externalId: 'one-author' } }),
      );
      const results = await Promise.all(posts.map((post) => ingestFixture(db, post, assessmentFixture(), 60)));
      expect(new Set(results.map((r) => r.ticket.id)).size).toBe(1);
      const [ticket] = await db.select().from(tickets).where(eq(tickets.id, results[0]!.ticket.id));
      expect(ticket?.itemCount).toBe(20);
      // Different authors at once: one ticket each.
      const many = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          ingestFixture(
            db,
            inboundFixture(source.id, { author: { externalId: `sender-${i}` } }),
            assessmentFixture(),
            60,
          ),
        ),
      );
      expect(new Set(many.map((r) => r.ticket.id)).size).toBe(16);
    });
  },
  ['postgres'],
);

describeEachDatabase('archived items joining tickets', (handle) => {
  it('join a live ticket of their conversation quietly: no reopen, no card, no status change', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'archive-join');
    const live = await ingestFixture(
      db,
      inboundFixture(source.id, { conversationId: 'conv-a', author: { externalId: 'arch-1' } }),
    );
    const before = await db.select().from(outbox).where(eq(outbox.ticketId, live.ticket.id));
    const archived = await ingestFixture(
      db,
      inboundFixture(source.id, {
        conversationId: 'conv-a',
        author: { externalId: 'arch-2' },
        createdAt: new Date('2020-01-01T00:00:00Z'),
        archived: true,
        tags: ['history'],
      }),
    );
    expect(archived.outcome).toBe('archived');
    expect(archived.ticket.id).toBe(live.ticket.id);
    const [ticket] = await db.select().from(tickets).where(eq(tickets.id, live.ticket.id));
    expect(ticket).toMatchObject({ status: 'new', itemCount: 2, version: live.ticket.version, tags: ['history'] });
    expect(await db.select().from(outbox).where(eq(outbox.ticketId, live.ticket.id))).toHaveLength(before.length);

    // A closed ticket stays closed when history joins it; a live post reopens it as before.
    const old = await ingestFixture(
      db,
      inboundFixture(source.id, { conversationId: 'conv-b', author: { externalId: 'arch-3' }, archived: true }),
    );
    expect(old.ticket.status).toBe('closed');
    const more = await ingestFixture(
      db,
      inboundFixture(source.id, { conversationId: 'conv-b', author: { externalId: 'arch-3' }, archived: true }),
    );
    expect(more.ticket).toMatchObject({ id: old.ticket.id, status: 'closed', itemCount: 2 });
    const reopened = await ingestFixture(
      db,
      inboundFixture(source.id, { conversationId: 'conv-b', author: { externalId: 'arch-3' } }),
    );
    expect(reopened).toMatchObject({ outcome: 'reopened', ticket: { id: old.ticket.id, status: 'new' } });
  });
});
