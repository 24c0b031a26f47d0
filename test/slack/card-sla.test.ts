import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { ticketEvents, tickets } from '../../src/db/schema/index.js';
import { saveSlaPolicies } from '../../src/sla/settings.js';
import { slaStatus } from '../../src/slack/blocks/format.js';
import { readCardSla } from '../../src/slack/card-sla.js';
import { getTicket } from '../../src/tickets/queries.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource } from '../helpers/fixtures.js';

describeEachDatabase('the card’s SLA clock within business hours', (handle) => {
  it('moves the due time by the business time a pause covered, not by its wall-clock length', async () => {
    const db = handle().db;
    await saveSlaPolicies(
      db,
      {
        P3: {
          firstResponseMinutes: 60,
          resolutionMinutes: 480,
          businessHours: { days: [1, 2, 3, 4, 5], startMinute: 9 * 60, endMinute: 17 * 60, timeZone: 'UTC' },
        },
      },
      'U0ADMIN',
    );
    const source = await seedSource(db);
    const { ticket } = await ingestFixture(
      db,
      inboundFixture(source.id, { author: { externalId: 'bh-1' } }),
      assessmentFixture({ priority: 'P3' }),
    );
    // Opened Monday 16:00; answered 16:10; waiting on the customer from 16:30 to Tuesday 09:00.
    const at = (iso: string) => new Date(`2026-03-0${iso}Z`);
    await db
      .update(tickets)
      .set({
        createdAt: at('2T16:00:00'),
        firstResponseAt: at('2T16:10:00'),
        firstResponseDueAt: at('2T17:00:00'),
        resolutionDueAt: at('3T16:00:00'),
        status: 'claimed',
        assignee: 'U0AGENT1',
        slaPausedSeconds: 16.5 * 3600,
      })
      .where(eq(tickets.id, ticket.id));
    await db.insert(ticketEvents).values([
      {
        ticketId: ticket.id,
        actor: 'U0AGENT1',
        type: 'replied',
        before: { status: 'claimed' },
        after: { status: 'waiting' },
        createdAt: at('2T16:30:00'),
      },
      {
        ticketId: ticket.id,
        actor: 'system:ingest',
        type: 'customer_message',
        before: { status: 'waiting' },
        after: { status: 'claimed' },
        createdAt: at('3T09:00:00'),
      },
    ]);
    const stored = (await getTicket(db, ticket.id))!;
    const now = at('3T10:00:00');
    const clocks = await readCardSla(db, stored, now);
    // 30 business minutes on Monday (16:00–16:30), the remaining 7.5 h from Tuesday 09:00.
    expect(clocks?.resolution.dueAt?.toISOString()).toBe('2026-03-03T16:30:00.000Z');
    expect(slaStatus(stored, now, clocks).line).toBe(':hourglass_flowing_sand: 6h 30m left for resolution');
    // Adding the pause's wall-clock 16.5 h to the stored due time would have said Wednesday 08:30.
    expect(slaStatus(stored, now).remainingMs).toBe((22 * 60 + 30) * 60_000);
  });

  it('reads nothing more around the clock: the stored due time plus the pause is exact there', async () => {
    const db = handle().db;
    const source = await seedSource(db, 'around-the-clock');
    const { ticket } = await ingestFixture(
      db,
      inboundFixture(source.id, { author: { externalId: 'atc-1' } }),
      assessmentFixture({ priority: 'P2' }),
    );
    expect(await readCardSla(db, ticket, new Date())).toBeNull();
  });
});
