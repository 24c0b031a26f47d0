import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../src/db/database.js';
import { rowsOf } from '../../src/db/database.js';
import { crisisAlerts, outbox, replies, triageCache } from '../../src/db/schema/index.js';
import { processItem } from '../../src/ingest/process-item.js';
import { storeItem } from '../../src/ingest/store-item.js';
import { recordReply, resolveTicket } from '../../src/tickets/actions.js';
import type { Ticket } from '../../src/tickets/types.js';
import { cacheKey } from '../../src/triage/openai/openai-provider.js';
import { assessmentFixture, inboundFixture, userActor } from '../helpers/fixtures.js';

/** Every table that can hold customer data, as text, for "is this string still anywhere?". */
const TABLES = [
  'items',
  'authors',
  'tickets',
  'ticket_events',
  'replies',
  'outbox',
  'crisis_alerts',
  'incidents',
  'triage_cache',
  'vip_authors',
];

/** The tables in which `needle` still appears (case-insensitive), anywhere in any column. */
export async function tablesContaining(db: Database, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const table of TABLES) {
    const [row] = rowsOf<{ n: number }>(
      await db.execute(
        sql`select count(*)::int as n from ${sql.identifier(table)} t where to_jsonb(t)::text ilike ${`%${needle}%`}`,
      ),
    );
    if (Number(row?.n) > 0) found.push(table);
  }
  return found;
}

export interface CustomerStory {
  ticket: Ticket;
  itemText: string;
  /** Strings that identify or quote this customer; none may survive erasure. */
  secrets: string[];
}

/**
 * One customer's conversation the whole way through, at `at`: a post with personal data, triage
 * cached, an agent's reply (sent) and a resolve note, a crisis alert sampling the post, and every
 * Slack delivery done. What retention and forget must erase.
 */
export async function seedCustomerStory(
  db: Database,
  input: { sourceId: number; name: string; at: Date; resolve?: boolean; topics?: string[] },
): Promise<CustomerStory> {
  const { name, at } = input;
  const handle = `${name}_handle`;
  const email = `${name}.private@example.com`;
  const itemText = `Hi, I am ${name}. My card was charged twice, write to ${email}`;
  const stored = await storeItem(
    db,
    inboundFixture(input.sourceId, {
      externalId: `${name}-post-1`,
      author: { externalId: `${name}-account`, handle, displayName: `${name} Displayname`, followerCount: 99 },
      text: itemText,
      url: `https://social.example/${handle}/1`,
      conversationId: `${name}-conversation`,
      createdAt: at,
      raw: { id: `${name}-post-1`, user: { screen_name: handle }, text: itemText },
    }),
    { maxTextLength: 20_000 },
  );
  const { ticket } = await processItem(
    db,
    {
      itemId: stored.item.id,
      assessment: assessmentFixture({
        channel: 'C0FEEDBACK',
        triage: { topics: input.topics ?? ['billing'], pii: [{ kind: 'email', start: 10, end: 20 }] },
      }),
    },
    { groupingWindowMinutes: 0, now: at },
  );
  await db.insert(triageCache).values({
    key: cacheKey('gpt-4o-mini', itemText),
    provider: 'openai',
    result: { category: 'complaint', topics: ['billing'] },
    createdAt: at,
  });
  const agent = userActor('U0AGENT1');
  const replyText = `Sorry ${name}, the refund for ${email} is on its way`;
  const { reply } = await recordReply(db, agent, {
    ticketId: ticket.id,
    text: replyText,
    parts: [replyText],
    idempotencyKey: `story-${name}`,
    now: new Date(at.getTime() + 10 * 60_000),
  });
  await db
    .update(replies)
    .set({ status: 'done', sentAt: new Date(at.getTime() + 11 * 60_000), externalIds: [`${name}-reply-post`] })
    .where(eq(replies.id, reply.id));
  const note = `refunded ${name} by hand`;
  if (input.resolve !== false) {
    await resolveTicket(db, agent, { ticketId: ticket.id, note, now: new Date(at.getTime() + 60 * 60_000) });
  }
  await db.insert(crisisAlerts).values({
    kind: 'influencer',
    groupKey: `influencer:${input.sourceId}:@${handle}`,
    status: 'resolved',
    details: {
      title: `Negative post by @${handle} (99 followers)`,
      kinds: ['influencer'],
      topic: 'billing',
      sourceIds: [input.sourceId],
      sourceNames: ['src'],
      count: 1,
      mean: 0,
      ratio: null,
      z: null,
      peakCount: 1,
      windowMinutes: 15,
      topTopics: [{ topic: 'billing', count: 1 }],
      topTerms: [{ term: name.toLowerCase(), count: 1 }],
      samples: [
        { text: itemText, author: `@${handle}`, url: null, followers: 99, sentiment: 'negative', ticketId: ticket.id },
      ],
      ticketIds: [ticket.id],
      trend: [0, 1],
    },
    channel: 'C0ONCALL',
    slackTs: '1700000000.000200',
    firstSeenAt: at,
    lastSeenAt: at,
    resolvedAt: at,
  });
  // Everything Slack was to show has been delivered.
  await db.update(outbox).set({ status: 'done', deliveredAt: at });
  await db.execute(sql`update outbox set created_at = ${at.toISOString()}::timestamptz where ticket_id = ${ticket.id}`);
  return {
    ticket,
    itemText,
    secrets: [email, handle, `${name} Displayname`, `${name}-account`, replyText, note, `${name}-reply-post`],
  };
}
