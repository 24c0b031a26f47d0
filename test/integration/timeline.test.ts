import { eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { authors, ticketEvents, tickets } from '../../src/db/schema/index.js';
import { claimTicket } from '../../src/tickets/actions.js';
import { getTimeline } from '../../src/tickets/queries.js';
import { allowEventRewrite } from '../../src/tickets/timeline.js';
import { describeEachDatabase } from '../helpers/database.js';
import { inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';

/** The Postgres error a statement failed with, however the driver wrapped it; null when it succeeded. */
async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string } | null> {
  try {
    await promise;
    return null;
  } catch (err) {
    let e: unknown = err;
    for (let depth = 0; depth < 4 && e; depth += 1) {
      const fields = e as { code?: unknown; message?: unknown; cause?: unknown };
      if (typeof fields.code === 'string' && /^\w{5}$/.test(fields.code))
        return { code: fields.code, message: String(fields.message) };
      e = fields.cause;
    }
    return { message: String(err) };
  }
}

describeEachDatabase('ticket_events is append-only', (handle) => {
  async function ticketWithEvents() {
    const { db } = handle();
    const source = await seedSource(db);
    const { ticket } = await ingestFixture(
      db,
      inboundFixture(source.id, { author: { externalId: `tl-${Math.random()}` } }),
    );
    await claimTicket(db, userActor('UANA'), { ticketId: ticket.id });
    return { ticket, events: await getTimeline(db, ticket.id) };
  }

  it('refuses to update or delete an event, or to empty the table', async () => {
    const { db } = handle();
    const { ticket, events } = await ticketWithEvents();
    const update = await failure(
      db
        .update(ticketEvents)
        .set({ details: { forged: true } })
        .where(eq(ticketEvents.id, events[1]!.id)),
    );
    expect(update).toMatchObject({ code: '23001' });
    expect(update?.message).toContain('append-only');
    expect(await failure(db.delete(ticketEvents).where(eq(ticketEvents.ticketId, ticket.id)))).toMatchObject({
      code: '23001',
    });
    expect(await failure(db.execute(sql`truncate ticket_events`))).toMatchObject({ code: '23001' });
    expect(await getTimeline(db, ticket.id)).toEqual(events);
  });

  it('lets a ticket take its events with it (retention delete, a forgotten author)', async () => {
    const { db } = handle();
    const first = await ticketWithEvents();
    await db.delete(tickets).where(eq(tickets.id, first.ticket.id));
    expect(await getTimeline(db, first.ticket.id)).toEqual([]);
    const second = await ticketWithEvents();
    await db.delete(authors).where(eq(authors.id, second.ticket.authorId));
    expect(await getTimeline(db, second.ticket.id)).toEqual([]);
  });

  it('allows a rewrite only inside a transaction that asked for it', async () => {
    const { db } = handle();
    const { ticket, events } = await ticketWithEvents();
    const claimed = events.find((e) => e.type === 'claimed')!;
    await db.transaction(async (tx) => {
      await allowEventRewrite(tx);
      await tx.update(ticketEvents).set({ actor: 'anonymized' }).where(eq(ticketEvents.id, claimed.id));
      await tx.delete(ticketEvents).where(eq(ticketEvents.id, events[0]!.id));
    });
    const after = await getTimeline(db, ticket.id);
    expect(after.map((e) => [e.id, e.actor])).toEqual([[claimed.id, 'anonymized']]);
    // The permission ended with that transaction.
    expect(
      await failure(db.update(ticketEvents).set({ actor: 'again' }).where(eq(ticketEvents.id, claimed.id))),
    ).toMatchObject({ code: '23001' });
    expect(
      await failure(
        db.transaction(async (tx) => {
          await tx.update(ticketEvents).set({ actor: 'again' }).where(eq(ticketEvents.id, claimed.id));
        }),
      ),
    ).toMatchObject({ code: '23001' });
  });
});
