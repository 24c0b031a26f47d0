import { and, asc, gt, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { type Database, intArray, rowsOf, sqlArray } from '../db/database.js';
import { items, tickets } from '../db/schema/index.js';
import { pruneJobRuns } from '../jobs/claim.js';
import { allowEventRewrite } from '../tickets/timeline.js';
import { anonymizeItems, anonymizeSpentAuthors, anonymizeTickets, deleteSpentAuthors } from './erase.js';

const DAY_MS = 86_400_000;

export type RetentionMode = 'anonymize' | 'delete';

export interface RetentionOptions {
  now: Date;
  /** Customer data older than this many days goes; 0 keeps it for ever (job history is pruned anyway). */
  days: number;
  mode: RetentionMode;
  /** Tickets (or items) per transaction. */
  batchSize?: number;
  /** job_runs rows older than this many days are dropped. */
  jobHistoryDays?: number;
}

export interface RetentionResult {
  tickets: number;
  items: number;
  authors: number;
  alerts: number;
  outbox: number;
  triageCache: number;
  jobRuns: number;
}

/** Job history kept when the caller does not say: enough to read a month of runs back. */
export const JOB_HISTORY_DAYS = 30;

/**
 * One retention pass. Past the cutoff, tickets that are resolved or closed (and whose customer last
 * wrote before it) are anonymized or deleted with their items, timeline, replies and deliveries;
 * items that never became a ticket go the same way; authors left with nothing are anonymized or
 * deleted. Open tickets keep their items however old: the work is not done. Old crisis alerts lose
 * their sample posts and terms, delivered Slack deliveries and the triage cache are dropped. Each
 * batch is one transaction, so a pass can stop anywhere and the next one carries on.
 *
 * Anonymize keeps every row the reports count (categories, sentiment, topics, statuses, timings), so
 * summaries of old periods stay as they were; delete removes the rows, and the reports with them.
 */
export async function runRetention(db: Database, options: RetentionOptions): Promise<RetentionResult> {
  const result: RetentionResult = {
    tickets: 0,
    items: 0,
    authors: 0,
    alerts: 0,
    outbox: 0,
    triageCache: 0,
    jobRuns: 0,
  };
  const batchSize = options.batchSize ?? 500;
  result.jobRuns = await pruneJobRuns(
    db,
    new Date(options.now.getTime() - (options.jobHistoryDays ?? JOB_HISTORY_DAYS) * DAY_MS),
  );
  if (options.days <= 0) return result;
  const cutoff = new Date(options.now.getTime() - options.days * DAY_MS);
  const anonymize = options.mode === 'anonymize';

  const expired = and(
    inArray(tickets.status, ['resolved', 'closed']),
    lt(tickets.createdAt, cutoff),
    lt(tickets.lastCustomerMessageAt, cutoff),
    sql`coalesce(${tickets.closedAt}, ${tickets.resolvedAt}, ${tickets.updatedAt}) < ${cutoff.toISOString()}::timestamptz`,
    anonymize ? sql`not (${tickets.triage} ? 'anonymizedAt')` : undefined,
  )!;
  for (let after = 0; ; ) {
    const batch = await db
      .select({ id: tickets.id })
      .from(tickets)
      .where(and(gt(tickets.id, after), expired))
      .orderBy(asc(tickets.id))
      .limit(batchSize);
    if (batch.length === 0) break;
    after = batch[batch.length - 1]!.id;
    const done = await db.transaction(async (tx) => {
      await allowEventRewrite(tx);
      // Re-read under lock: a customer who wrote again since has reopened the ticket, which keeps it.
      const locked = await tx
        .select({ id: tickets.id, authorId: tickets.authorId })
        .from(tickets)
        .where(
          and(
            inArray(
              tickets.id,
              batch.map((t) => t.id),
            ),
            expired,
          ),
        )
        .for('update');
      const ids = locked.map((t) => t.id);
      if (ids.length === 0) return { tickets: 0, items: 0, authors: 0 };
      if (anonymize) {
        const erasedItems = await anonymizeItems(tx, sql`${items.ticketId} = any(${intArray(ids)})`);
        const erased = await anonymizeTickets(tx, ids, options.now);
        const authorIds = [...new Set([...locked.map((t) => t.authorId), ...erasedItems.authorIds])];
        const authors = await anonymizeSpentAuthors(tx, authorIds, options.now);
        return { tickets: erased.tickets, items: erasedItems.items, authors };
      }
      const deletedItems = rowsOf<{ author_id: number }>(
        await tx.execute(sql`delete from items where ticket_id = any(${intArray(ids)}) returning author_id`),
      );
      // Timeline, replies and deliveries go with their ticket (on delete cascade).
      await tx.delete(tickets).where(inArray(tickets.id, ids));
      const authorIds = [
        ...new Set([...locked.map((t) => t.authorId), ...deletedItems.map((r) => Number(r.author_id))]),
      ];
      const authors = await deleteSpentAuthors(tx, authorIds);
      return { tickets: ids.length, items: deletedItems.length, authors };
    });
    result.tickets += done.tickets;
    result.items += done.items;
    result.authors += done.authors;
  }

  // Items that never became a ticket (triage never finished, or their ticket was deleted).
  const loose = sql`${items.ticketId} is null and ${items.receivedAt} < ${cutoff.toISOString()}::timestamptz`;
  for (;;) {
    const done = await db.transaction(async (tx) => {
      const ids = rowsOf<{ id: number }>(
        await tx.execute(sql`
          select id from items where ${loose} ${anonymize ? sql`and text <> ''` : sql``}
          order by id limit ${batchSize} for update skip locked`),
      ).map((r) => Number(r.id));
      if (ids.length === 0) return null;
      const inBatch = sql`${items.id} = any(${sqlArray(ids, 'bigint')})`;
      if (anonymize) {
        const erased = await anonymizeItems(tx, inBatch);
        return { items: erased.items, authors: await anonymizeSpentAuthors(tx, erased.authorIds, options.now) };
      }
      const deleted = rowsOf<{ author_id: number }>(
        await tx.execute(sql`delete from items where ${inBatch} returning author_id`),
      );
      const authors = await deleteSpentAuthors(tx, [...new Set(deleted.map((r) => Number(r.author_id)))]);
      return { items: deleted.length, authors };
    });
    if (!done) break;
    result.items += done.items;
    result.authors += done.authors;
  }

  result.alerts = await eraseOldAlertSamples(db, cutoff);
  result.outbox = await deleteInBatches(
    db,
    sql`select id from outbox where status <> 'pending' and created_at < ${cutoff.toISOString()}::timestamptz`,
    'outbox',
    batchSize * 10,
  );
  result.triageCache = rowsOf<{ key: string }>(
    await db.execute(
      sql`delete from triage_cache where created_at < ${cutoff.toISOString()}::timestamptz returning key`,
    ),
  ).length;
  return result;
}

/**
 * Crisis alerts last seen before the cutoff keep their counts, topics and trend; their sample posts
 * and terms (customers' words) go, and a handle in the title of an influencer alert is replaced.
 */
async function eraseOldAlertSamples(db: Database, cutoff: Date): Promise<number> {
  const rows = rowsOf<{ id: number }>(
    await db.execute(sql`
      update crisis_alerts
      set details = details || jsonb_build_object(
            'samples', '[]'::jsonb, 'topTerms', '[]'::jsonb,
            'title', regexp_replace(coalesce(details->>'title', kind), '@[A-Za-z0-9_]+', 'an author', 'g')),
          group_key = regexp_replace(group_key, '@[A-Za-z0-9_]+', 'author-' || id, 'g')
      where last_seen_at < ${cutoff.toISOString()}::timestamptz
        and (jsonb_array_length(coalesce(details->'samples', '[]'::jsonb)) > 0
             or jsonb_array_length(coalesce(details->'topTerms', '[]'::jsonb)) > 0)
      returning id`),
  );
  await db.execute(sql`
    update incidents set title = regexp_replace(title, '@[A-Za-z0-9_]+', 'an author', 'g')
    where created_at < ${cutoff.toISOString()}::timestamptz and title ~ '@[A-Za-z0-9_]+'`);
  return rows.length;
}

async function deleteInBatches(db: Database, select: SQL, table: 'outbox', batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = rowsOf<{ id: number }>(
      await db.execute(
        sql`delete from ${sql.identifier(table)} where id in (${select} limit ${batchSize}) returning id`,
      ),
    );
    total += rows.length;
    if (rows.length < batchSize) return total;
  }
}
