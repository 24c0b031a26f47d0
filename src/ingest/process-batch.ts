import { sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';
import { insertJsonRows, jsonArray, jsonParam, rowOf } from '../db/rows.js';
import { outbox, ticketEvents, tickets } from '../db/schema/index.js';
import { autoAckTemplateFor } from '../replies/auto-ack.js';
import type { SlaPolicies } from '../sla/policy.js';
import { slaPoliciesFrom, slaPoliciesText } from '../sla/settings.js';
import { chooseTicketForItem, type GroupingCandidate } from '../tickets/grouping.js';
import { cardRefreshRow, eventRow } from '../tickets/timeline.js';
import type { Item, Source, Ticket } from '../tickets/types.js';
import type { Assessment } from '../triage/types.js';
import {
  createdEvent,
  lockKeysOf,
  markedItem,
  newTicketValues,
  type ProcessedItem,
  type ProcessOptions,
  processItemInTransaction,
} from './process-item.js';

/** A stored item and its triage, ready to become (part of) a ticket. */
export interface TriagedItem {
  item: Item;
  assessment: Assessment;
}

/**
 * Makes a batch of triaged items into tickets in one transaction, so a burst costs a commit and a
 * handful of statements per batch rather than per item. The first round trip locks the items and
 * every author and conversation the batch touches (in ascending hash order, as `lockItem` does) and
 * reads what grouping needs for all of them; an item that opens a plain new ticket (the common
 * case) is then written with the others in multi-row inserts, its ticket id drawn in that first
 * round trip. Every other item (one that joins or reopens a ticket, shares an author or conversation
 * with an earlier item of the batch, is imported history, or needs an incident link, routing notice
 * or auto-acknowledgement) goes through `processItemInTransaction`, in arrival order, after those
 * inserts, so it sees the tickets the batch opened. Answers each item's result in the batch's
 * order, or null for an item that no longer exists. If anything fails nothing is written.
 */
export async function processBatch(
  db: Database,
  batch: readonly TriagedItem[],
  options: ProcessOptions,
): Promise<(ProcessedItem | null)[]> {
  if (batch.length === 0) return [];
  // An item given twice is processed once; every copy gets its result.
  const unique = [...new Map(batch.map((entry) => [entry.item.id, entry])).values()];
  if (unique.length < batch.length) {
    const results = await processBatch(db, unique, options);
    const byId = new Map(unique.map((entry, i) => [entry.item.id, results[i] ?? null]));
    return batch.map((entry) => byId.get(entry.item.id) ?? null);
  }
  const now = options.now ?? new Date();
  return db.transaction(async (tx) => {
    // Sent together, in this order: the server takes the locks before it runs the reads.
    const [locked, { facts, candidates, parents, ticketIds }] = await Promise.all([
      lockBatch(tx, batch),
      readBatch(tx, batch, options.groupingWindowMinutes),
    ]);

    const plan = planBatch(batch, { locked, facts, candidates, parents }, options.groupingWindowMinutes);
    const opened = plan.opens.map((entry, index) => ({ entry, id: ticketIds[index]! }));
    const openedTickets = await writeOpenedTickets(tx, opened, now, facts.slaPolicies);

    const results = new Map<number, ProcessedItem | null>();
    for (const { entry, id } of opened) {
      const { item, assessment } = entry;
      results.set(item.id, {
        outcome: 'opened',
        ticket: openedTickets.get(id)!,
        item: markedItem(item, id, now, assessment),
      });
    }
    for (const { item, assessment } of plan.others) {
      const current = locked.get(item.id);
      if (!current) {
        results.set(item.id, null);
        continue;
      }
      results.set(
        item.id,
        await processItemInTransaction(tx, { ...item, ...current }, assessment, { ...options, now }),
      );
    }
    return batch.map(({ item }) => results.get(item.id) ?? null);
  });
}

/** What the first round trip read, by key. */
interface BatchReads {
  /** Items that still exist, locked, with whether and where they were processed meanwhile. */
  locked: Map<number, Pick<Item, 'processedAt' | 'ticketId'>>;
  facts: BatchFacts;
  candidates: (GroupingCandidate & { sourceId: number })[];
  /** Ticket id by `${sourceId}:${externalId}` of the parent posts the batch's replies name. */
  parents: Map<string, number | null>;
}

interface BatchFacts {
  incidentsOpen: boolean;
  sources: Map<number, Pick<Source, 'kind' | 'settings'>>;
  slaPolicies: SlaPolicies;
}

/**
 * Splits the batch into the items that open a plain new ticket, written together, and the rest,
 * left to the one-item path. Pure: a function of the batch and what the first round trip read.
 */
export function planBatch(
  batch: readonly TriagedItem[],
  reads: BatchReads,
  windowMinutes: number,
): { opens: TriagedItem[]; others: TriagedItem[] } {
  const opens: TriagedItem[] = [];
  const others: TriagedItem[] = [];
  // Keys of items earlier in the batch: a later item of the same author or conversation may group
  // with a ticket the batch has not written yet, so it waits for the one-item path.
  const seenKeys = new Set<string>();
  const seenPosts = new Set<string>();
  for (const entry of batch) {
    const { item, assessment } = entry;
    const keys = lockKeysOf(item);
    const post = `${item.sourceId}:${item.externalId}`;
    const parent = item.parentExternalId ? `${item.sourceId}:${item.parentExternalId}` : null;
    const current = reads.locked.get(item.id);
    const source = reads.facts.sources.get(item.sourceId);
    const plain =
      current !== undefined &&
      !current.processedAt &&
      !item.archived &&
      !reads.facts.incidentsOpen &&
      !(assessment.notify && assessment.rule) &&
      !(source && autoAckTemplateFor(source)) &&
      !keys.some((key) => seenKeys.has(key)) &&
      !(parent && (seenPosts.has(parent) || (reads.parents.get(parent) ?? null) !== null)) &&
      chooseTicketForItem(
        item,
        reads.candidates.filter((c) => c.sourceId === item.sourceId),
        windowMinutes,
      ) === null;
    (plain ? opens : others).push(entry);
    for (const key of keys) seenKeys.add(key);
    seenPosts.add(post);
  }
  return { opens, others };
}

/**
 * Locks the batch's item rows (in id order), then every author and conversation lock it needs (in
 * ascending order of their hash, as `lockItem` takes its two), in one statement. Answers the items
 * that still exist, with whether and where they were processed meanwhile (a locked row is read as
 * last committed).
 */
async function lockBatch(tx: Database, batch: readonly TriagedItem[]): Promise<BatchReads['locked']> {
  const ids = batch.map((e) => e.item.id);
  const keys = [...new Set(batch.flatMap((e) => lockKeysOf(e.item)))];
  const [row] = rowsOf<{
    items: { id: number; processed_at: string | null; ticket_id: number | null }[] | null;
  }>(
    await tx.execute(sql`
      select (select json_agg(x) from (
                select id, processed_at, ticket_id from items
                where id = any(${jsonArray(ids, 'bigint')}) order by id for update
              ) as x) as items,
             (select count(pg_advisory_xact_lock(h)) from (
                select distinct hashtext(k) as h from jsonb_array_elements_text(${jsonParam(keys)}) as k order by h
              ) as s) as locks`),
  );
  return new Map(
    (row?.items ?? []).map((r) => [
      Number(r.id),
      { processedAt: r.processed_at === null ? null : new Date(r.processed_at), ticketId: r.ticket_id },
    ]),
  );
}

type BatchRead = Omit<BatchReads, 'locked'> & { ticketIds: number[] };

/**
 * Everything planning the batch reads, in one statement sent after the locks (so it reads what was
 * committed before they were granted): whether an incident is open, the sources' settings, the SLA
 * policies, every ticket an item could join (its author's within the window, its conversation's),
 * the tickets of the posts the batch's replies name, and an id for each ticket the batch may open.
 * Each lookup is an `= any(…)` of a `jsonArray` on an index's columns: an OR of `in (subquery)` conditions
 * made PostgreSQL read the whole tickets table for every batch, and a parent post looked up without
 * its source the whole items table. A batch without threads or replies (most webhook items) leaves
 * those lookups out rather than asking for an empty list, which a young table's statistics could
 * still have planned as a read of every ticket of the source.
 */
async function readBatch(tx: Database, batch: readonly TriagedItem[], windowMinutes: number): Promise<BatchRead> {
  const sourceIds = [...new Set(batch.map((e) => e.item.sourceId))];
  const authorIds = [...new Set(batch.map((e) => e.item.authorId))];
  const conversations = [...new Set(batch.flatMap((e) => (e.item.conversationId ? [e.item.conversationId] : [])))];
  const parents = [...new Set(batch.flatMap((e) => (e.item.parentExternalId ? [e.item.parentExternalId] : [])))];
  const earliest = Math.min(...batch.map((e) => e.item.createdAt.getTime()));
  const windowStart = new Date(earliest - Math.max(0, windowMinutes) * 60_000).toISOString();
  const [row] = rowsOf<{
    incidents_open: boolean;
    sources: { id: number; kind: Source['kind']; settings: Source['settings'] | null }[] | null;
    sla_policies: string | null;
    candidates:
      | {
          id: number;
          source_id: number;
          author_id: number;
          conversation_id: string | null;
          status: Ticket['status'];
          last_customer_message_at: string;
        }[]
      | null;
    parents: { source_id: number; external_id: string; ticket_id: number | null }[] | null;
    ticket_ids: (number | string)[] | null;
  }>(
    await tx.execute(sql`
      select exists (select 1 from incidents where status = 'open') as incidents_open,
             (select json_agg(json_build_object('id', id, 'kind', kind, 'settings', settings)) from sources
              where id = any(${jsonArray(sourceIds, 'int')})) as sources,
             ${slaPoliciesText()} as sla_policies,
             (select json_agg(t) from (
                select id, source_id, author_id, conversation_id, status, last_customer_message_at from tickets
                where author_id = any(${jsonArray(authorIds, 'int')})
                  and last_customer_message_at >= ${windowStart}::timestamptz
                ${
                  conversations.length > 0
                    ? sql`union
                select id, source_id, author_id, conversation_id, status, last_customer_message_at from tickets
                where source_id = any(${jsonArray(sourceIds, 'int')}) and conversation_id = any(${jsonArray(conversations, 'text')})`
                    : sql``
                }
              ) as t) as candidates,
             ${
               parents.length > 0
                 ? sql`(select json_agg(p) from (
                select source_id, external_id, ticket_id from items
                where source_id = any(${jsonArray(sourceIds, 'int')}) and external_id = any(${jsonArray(parents, 'text')})
              ) as p)`
                 : sql`null::json`
             } as parents,
             (select json_agg(nextval(pg_get_serial_sequence('tickets', 'id')))
              from generate_series(1, ${batch.length}::int)) as ticket_ids`),
  );
  return {
    facts: {
      incidentsOpen: row?.incidents_open !== false,
      sources: new Map((row?.sources ?? []).map((s) => [s.id, { kind: s.kind, settings: s.settings ?? {} }])),
      slaPolicies: slaPoliciesFrom(row?.sla_policies ?? null),
    },
    candidates: (row?.candidates ?? []).map((r) => ({
      id: r.id,
      sourceId: r.source_id,
      authorId: r.author_id,
      conversationId: r.conversation_id,
      status: r.status,
      lastCustomerMessageAt: new Date(r.last_customer_message_at),
    })),
    parents: new Map((row?.parents ?? []).map((r) => [`${r.source_id}:${r.external_id}`, r.ticket_id])),
    ticketIds: (row?.ticket_ids ?? []).map(Number),
  };
}

/**
 * The new tickets, their `created` events and card rows, and the items' processed marks, in one
 * statement: what `openTicket` and `recordEvent` write for one ticket (a `created` event has no
 * thread line, and a new ticket has no pending card row to fold into).
 */
async function writeOpenedTickets(
  tx: Database,
  opened: readonly { entry: TriagedItem; id: number }[],
  now: Date,
  slaPolicies: SlaPolicies,
): Promise<Map<number, Ticket>> {
  if (opened.length === 0) return new Map();
  const ticketRows = opened.map(({ entry, id }) => ({
    id,
    ...newTicketValues(entry.item, entry.assessment, now, slaPolicies),
  }));
  const events = opened.map(({ entry, id }) => eventRow(id, createdEvent(entry.item, entry.assessment)));
  const cards = ticketRows.map(cardRefreshRow);
  const marks = opened.map(({ entry, id }) => ({
    item_id: entry.item.id,
    ticket_id: id,
    triage: entry.assessment.triage,
  }));
  const [row] = rowsOf<{ tickets: Record<string, unknown>[] | null }>(
    await tx.execute(sql`
      with opened as (${insertJsonRows(tickets, ticketRows, { overridingSystemValue: true })} returning *),
           events as (${insertJsonRows(ticketEvents, events)}),
           cards as (${insertJsonRows(outbox, cards)}),
           marked as (
             update items set ticket_id = m.ticket_id, processed_at = ${now.toISOString()}::timestamptz, triage = m.triage
             from jsonb_to_recordset(${jsonParam(marks)}) as m(item_id bigint, ticket_id int, triage jsonb)
             where items.id = any(${jsonArray(
               marks.map((m) => m.item_id),
               'bigint',
             )}) and items.id = m.item_id
           )
      select (select json_agg(opened) from opened) as tickets`),
  );
  const written = (row?.tickets ?? []).map((r) => rowOf(tickets, r));
  return new Map(written.map((t) => [t.id, t]));
}
