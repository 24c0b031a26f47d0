import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { rowsOf } from '../../src/db/database.js';
import { tickets } from '../../src/db/schema/index.js';
import { listOpenQueue, openQueueQuery } from '../../src/tickets/queries.js';
import type { Ticket } from '../../src/tickets/types.js';
import { describeEachDatabase } from '../helpers/database.js';
import { inboundFixture, ingestFixture, seedSource } from '../helpers/fixtures.js';
import { explainNodes } from '../helpers/query-plan.js';

const ROWS = 4000;

describeEachDatabase('open queue', (handle) => {
  it('is read in order from tickets_open_queue_idx: no sort, and the order the queue promises', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'queue-plan');
    const { ticket: seed } = await ingestFixture(
      db,
      inboundFixture(source.id, { author: { externalId: 'queue-plan' } }),
    );
    // Every status, priority, claimed or not, some spam, ages spread over ten days.
    await db.execute(sql`
      insert into tickets (source_id, author_id, channel, status, priority, assignee, spam,
                           last_customer_message_at, created_at, updated_at)
      select ${seed.sourceId}, ${seed.authorId}, 'C_QUEUE',
             (array['new','claimed','waiting','resolved','closed'])[1 + i % 5]::ticket_status,
             (array['P1','P2','P3','P4'])[1 + (i / 7) % 4]::ticket_priority,
             case when i % 3 = 0 then null else 'U' || (i % 9) end,
             case when i % 11 = 0 then 1 else 0 end,
             now(), now() - (i * interval '3 minutes'), now()
      from generate_series(1, ${ROWS}) as i`);
    await db.execute(sql`analyze tickets`);

    for (const unclaimedOnly of [false, true]) {
      const nodes = await db.transaction(async (tx) => {
        // Deterministic on any data size: the planner must find an index path to avoid a full scan.
        await tx.execute(sql`set local enable_seqscan = off`);
        return explainNodes(tx, openQueueQuery(tx, { limit: 25, unclaimedOnly }));
      });
      expect(nodes.map((n) => n['Node Type'])).not.toContain('Sort');
      expect(nodes.map((n) => n['Node Type'])).not.toContain('Incremental Sort');
      expect(nodes.find((n) => n['Node Type'] === 'Index Scan')?.['Index Name']).toBe('tickets_open_queue_idx');
    }

    const all = rowsOf<{ id: number }>(await db.execute(sql`select id from tickets`)).length;
    const queue = await listOpenQueue(db, { limit: all });
    const expected = (await db.select().from(tickets))
      .filter((t) => ['new', 'claimed', 'waiting'].includes(t.status) && t.spam === 0)
      .sort(queueOrder);
    expect(queue.map((t) => t.id)).toEqual(expected.map((t) => t.id));
    const unclaimed = await listOpenQueue(db, { limit: 40, unclaimedOnly: true });
    expect(unclaimed.map((t) => t.id)).toEqual(
      expected
        .filter((t) => t.assignee === null)
        .slice(0, 40)
        .map((t) => t.id),
    );
  });
});

function queueOrder(a: Ticket, b: Ticket): number {
  return (
    Number(a.assignee !== null) - Number(b.assignee !== null) ||
    a.priority.localeCompare(b.priority) ||
    a.createdAt.getTime() - b.createdAt.getTime() ||
    0
  );
}
