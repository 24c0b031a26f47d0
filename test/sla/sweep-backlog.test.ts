import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { rowsOf } from '../../src/db/database.js';
import { authors, tickets } from '../../src/db/schema/index.js';
import { DEFAULT_SLA_TARGETS } from '../../src/sla/policy.js';
import { runSlaSweep, slaCandidateQuery } from '../../src/sla/sweep.js';
import { describeEachDatabase } from '../helpers/database.js';
import { seedSource } from '../helpers/fixtures.js';
import { explainNodes, indexNames } from '../helpers/query-plan.js';

const NOW = new Date('2026-03-02T10:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);

describeEachDatabase('SLA sweep on a long history', (handle) => {
  it('pages through the tickets with a clock to settle, not through every ticket', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'sla-history');
    const [author] = await db.insert(authors).values({ sourceId: source.id, externalId: 'history' }).returning();
    // A year of settled history (answered and resolved, both clocks marked), as a long-running team has.
    await db.execute(sql`
      insert into tickets (source_id, author_id, channel, status, last_customer_message_at, first_response_at,
                           resolved_at, closed_at, first_response_sla, resolution_sla, created_at)
      select ${source.id}, ${author!.id}, 'C0FEEDBACK', 'closed', t, t + interval '20 minutes', t + interval '2 hours',
             t + interval '3 hours', (array['met', 'breached'])[1 + g % 2]::sla_state, 'met'::sla_state, t
      from generate_series(1, 20000) g, lateral (select ${hoursAgo(24 * 400).toISOString()}::timestamptz
                                                         + g * interval '30 minutes' as t) as at`);
    // The backlog: one open ticket overdue for its first response, one answered but not yet marked met.
    const [overdue] = await db
      .insert(tickets)
      .values({
        sourceId: source.id,
        authorId: author!.id,
        channel: 'C0FEEDBACK',
        priority: 'P1',
        lastCustomerMessageAt: hoursAgo(2),
        createdAt: hoursAgo(2),
      })
      .returning();
    const [answered] = await db
      .insert(tickets)
      .values({
        sourceId: source.id,
        authorId: author!.id,
        channel: 'C0FEEDBACK',
        priority: 'P3',
        status: 'claimed',
        lastCustomerMessageAt: hoursAgo(1),
        firstResponseAt: hoursAgo(0.5),
        createdAt: hoursAgo(1),
      })
      .returning();
    await db.execute(sql`analyze tickets`);

    // One read of tickets, through the backlog's index alone: directly (the page states its
    // predicate) or as a bitmap of it. Without the index it is a sequential scan of every ticket.
    const nodes = await explainNodes(db, slaCandidateQuery(db, DEFAULT_SLA_TARGETS, NOW));
    const reads = nodes.filter((node) => node['Relation Name'] === 'tickets');
    expect(reads.map((node) => node['Node Type'])).toEqual([expect.stringMatching(/^(Index Scan|Bitmap Heap Scan)$/)]);
    expect(indexNames(nodes)).toEqual(['tickets_sla_live_idx']);

    // And the sweep still finds both: the overdue ticket breaches, the answered one is marked met.
    const result = await runSlaSweep(db, {
      now: NOW,
      leadsChannel: 'C0LEADS',
      onDutyGroups: {},
      escalateOnDutyMinutes: 0,
      escalateLeadsMinutes: 0,
    });
    expect(result).toMatchObject({ breached: 1, met: 1 });
    const settled = rowsOf<{ id: number; first_response_sla: string }>(
      await db.execute(
        sql`select id, first_response_sla from tickets where id in (${overdue!.id}, ${answered!.id}) order by id`,
      ),
    );
    expect(settled.map((r) => r.first_response_sla)).toEqual(['breached', 'met']);
  });
});
