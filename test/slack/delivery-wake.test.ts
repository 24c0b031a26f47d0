import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { items } from '../../src/db/schema/index.js';
import { type IngestService, ingestModule } from '../../src/ingest/module.js';
import { requireService } from '../../src/module.js';
import { SEED } from '../../src/sandbox/index.js';
import { getTicket } from '../../src/tickets/queries.js';
import { inboundFixture, seedSource } from '../helpers/fixtures.js';
import { waitFor } from '../ingest/helpers.js';
import { type SlackHarness, startSlackHarness } from './harness.js';

const KINDS = process.env.TEST_DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

describe.each(KINDS)('ingestion wakes the delivery worker [%s]', (kind) => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await startSlackHarness({
      database: kind,
      // The running loop, polling so rarely that only a wake can post a card within the test.
      module: { startDelivery: true, delivery: { pollIntervalMs: 10 * 60_000 } },
      modules: { after: [ingestModule] },
      env: { EARSHOT_FEEDBACK_CHANNEL: 'earshot-feedback' },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('posts a new item’s card as soon as its ticket commits, not at the next poll', async () => {
    const db = h.earshot.context.db;
    const source = await seedSource(db, 'wake-source');
    const ingest = requireService<IngestService>(h.earshot.context, 'ingest');
    // Let the loop finish its first round and go to sleep for the poll interval.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stored = await ingest.pipeline.receive(
      inboundFixture(source.id, { author: { externalId: 'wake-1', handle: 'waker' }, text: 'my parcel is lost' }),
    );
    await ingest.pipeline.idle();
    // The receipt answered before the ticket was made; the item row has it now.
    const [item] = await db.select().from(items).where(eq(items.id, stored.item.id));
    const ticketId = item!.ticketId!;
    expect(ticketId).toBeTruthy();
    await waitFor(async () => Boolean((await getTicket(db, ticketId))?.slackTs), 'the card was not posted');
    const card = h.sandbox.workspace.findMessage(SEED.channels.feedback, (await getTicket(db, ticketId))!.slackTs!);
    expect(card?.text).toContain('my parcel is lost');
  });
});
