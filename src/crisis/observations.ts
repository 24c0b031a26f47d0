import { sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';
import { type CrisisPost, type CrisisThresholds, neededSpans, type Sentiment } from './detector.js';

interface Row {
  id: number;
  source_id: number;
  source_name: string;
  received_at: string | Date;
  text: string;
  url: string | null;
  ticket_id: number | null;
  topics: string[] | null;
  sentiment: string | null;
  followers: number;
  handle: string | null;
  first_seen: string | Date | null;
}

/**
 * Loads the posts a detection at `now` looks at: only the current and baseline windows (a few
 * hours of items in all, found through items_received_idx), with triage topics and sentiment (the
 * ticket's when the item has no triage of its own yet) and the author's follower count. Spam is left out.
 */
export async function loadCrisisPosts(
  db: Database,
  now: Date,
  thresholds: CrisisThresholds,
): Promise<{ posts: CrisisPost[]; firstSeenAt: Date | undefined }> {
  const spans = neededSpans(now, thresholds);
  const ranges = sql.join(
    spans.map(
      ([a, b]) =>
        sql`(i.received_at >= ${a.toISOString()}::timestamptz and i.received_at < ${b.toISOString()}::timestamptz)`,
    ),
    sql` or `,
  );
  const rows = rowsOf<Row>(
    await db.execute(sql`
      select i.id, i.source_id, s.name as source_name, i.received_at, i.text, i.url, i.ticket_id,
             coalesce(
               case when jsonb_typeof(i.triage->'topics') = 'array'
                    then array(select jsonb_array_elements_text(i.triage->'topics')) end,
               t.topics) as topics,
             coalesce(i.triage->>'sentiment', t.sentiment::text) as sentiment,
             a.follower_count as followers, a.handle,
             (select min(received_at) from items) as first_seen
      from items i
      join sources s on s.id = i.source_id
      join authors a on a.id = i.author_id
      left join tickets t on t.id = i.ticket_id
      where (${ranges})
        and coalesce((i.triage->>'spam')::boolean, false) = false
        and coalesce(t.spam, 0) = 0`),
  );
  const posts: CrisisPost[] = rows.map((r) => ({
    at: new Date(r.received_at),
    sourceId: Number(r.source_id),
    sourceName: r.source_name,
    topics: (r.topics ?? []).map((t) => t.toLowerCase()),
    sentiment: (['negative', 'neutral', 'positive'].includes(r.sentiment ?? '') ? r.sentiment : 'neutral') as Sentiment,
    followers: Number(r.followers),
    text: r.text,
    author: r.handle ? `@${r.handle}` : undefined,
    url: r.url,
    ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
    itemId: Number(r.id),
  }));
  const first = rows[0]?.first_seen;
  return { posts, firstSeenAt: first ? new Date(first) : undefined };
}
