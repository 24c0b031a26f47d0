import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { rowsOf } from '../../src/db/database.js';
import { authors } from '../../src/db/schema/index.js';
import { findByAuthorQuery, findByTextQuery, findTickets } from '../../src/tickets/queries.js';
import { describeEachDatabase } from '../helpers/database.js';
import { seedSource } from '../helpers/fixtures.js';
import { explainNodes, indexNames, type PlanNode } from '../helpers/query-plan.js';

/** Whether the plan reads the whole of `table` (a sequential scan of it). */
const scansWhole = (nodes: PlanNode[], table: string) =>
  nodes.some((node) => node['Relation Name'] === table && node['Node Type'] === 'Seq Scan');

describeEachDatabase('/earshot find on a long history', (handle) => {
  it('reads words from the trigram index and authors from their indexes, not every row', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'find-history');
    // 20,000 customers, each with one ticket and one message, as a year of a busy team's traffic.
    await db.execute(sql`
      insert into authors (source_id, external_id, handle)
      select ${source.id}, 'user-' || g, 'Customer' || g from generate_series(1, 20000) g`);
    await db.execute(sql`
      insert into tickets (source_id, author_id, channel, status, last_customer_message_at, created_at)
      select source_id, id, 'C0FEEDBACK', 'closed', now() - id * interval '1 minute', now() - id * interval '1 minute'
      from authors where source_id = ${source.id}`);
    await db.execute(sql`
      insert into items (source_id, external_id, author_id, ticket_id, text, created_at)
      select t.source_id, 'post-' || t.id, t.author_id, t.id,
             'order ' || md5(t.id::text) || ' ' || (array['never arrived', 'was charged twice', 'is late'])[1 + t.id % 3],
             t.created_at
      from tickets t where t.source_id = ${source.id}`);
    const [target] = await db.select().from(authors).where(sql`${authors.externalId} = 'user-12345'`);
    const [needle] = rowsOf<{ ticket_id: number; text: string }>(
      await db.execute(sql`select ticket_id, text from items where author_id = ${target!.id}`),
    );
    // What autovacuum (or, on PGlite, the embedded-maintenance job) does: statistics, and the GIN
    // index's pending list merged, which the planner otherwise prices as a scan of its own.
    await db.execute(sql`vacuum (analyze) authors, tickets, items`);

    // A rare word (one customer's order number): the items come from the trigram index.
    const orderNumber = needle!.text.split(' ')[1]!.slice(0, 12);
    const byText = await explainNodes(db, findByTextQuery(db, orderNumber, 10));
    expect(scansWhole(byText, 'items')).toBe(false);
    expect(indexNames(byText)).toContain('items_text_trgm_idx');
    expect((await findTickets(db, orderNumber.toUpperCase(), { limit: 10 })).map((t) => t.id)).toEqual([
      needle!.ticket_id,
    ]);
    // Words no one wrote: an empty answer from the index, not from reading 20,000 messages.
    const absent = await explainNodes(db, findByTextQuery(db, 'zebra-coloured parcel', 10));
    expect(scansWhole(absent, 'items')).toBe(false);
    expect(await findTickets(db, 'zebra-coloured parcel', { limit: 10 })).toEqual([]);

    // By handle and by the source's id for the author: both sides of the union use an index.
    for (const who of ['customer12345', 'user-12345']) {
      const byAuthor = await explainNodes(db, findByAuthorQuery(db, who, 10));
      expect(scansWhole(byAuthor, 'authors')).toBe(false);
      expect(scansWhole(byAuthor, 'tickets')).toBe(false);
      expect((await findTickets(db, `@${who}`, { limit: 10 })).map((t) => t.id)).toEqual([needle!.ticket_id]);
    }
  });
});
