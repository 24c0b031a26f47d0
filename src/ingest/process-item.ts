import { and, eq, type SQL, sql } from 'drizzle-orm';
import { linkTicketToIncidents } from '../crisis/respond.js';
import { type Database, rowsOf } from '../db/database.js';
import { insertInto, rowOf } from '../db/rows.js';
import { items, ticketEvents, tickets } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { autoAckTemplateFor, queueAutoAck } from '../replies/auto-ack.js';
import { computeDueTimes, type SlaPolicies } from '../sla/policy.js';
import { slaPoliciesFrom, slaPoliciesText } from '../sla/settings.js';
import { chooseTicketForItem, type GroupingCandidate } from '../tickets/grouping.js';
import { nextStatus } from '../tickets/lifecycle.js';
import { slaClockPatch } from '../tickets/sla-clock.js';
import { type EventInput, eventRow, recordEvent } from '../tickets/timeline.js';
import type { Actor, Item, Priority, Source, Ticket } from '../tickets/types.js';
import { queueRoutingNotice } from '../triage/routing-notice.js';
import type { Assessment } from '../triage/types.js';

const INGEST_ACTOR: Actor = { kind: 'system', name: 'ingest' };

/** `archived`: imported history, stored on a closed ticket without a card or SLA clock. */
export type ProcessOutcome = 'opened' | 'joined' | 'reopened' | 'archived' | 'already_processed';

export interface ProcessedItem {
  outcome: ProcessOutcome;
  ticket: Ticket;
  item: Item;
}

export interface ProcessOptions {
  /** Minutes within which the same author's next post joins their ticket. */
  groupingWindowMinutes: number;
  now?: Date;
}

/**
 * Turns a stored, triaged item into work: it opens a ticket, or joins the open ticket of the same
 * conversation (reopening a resolved one). Idempotent: an item already processed returns its ticket.
 */
export async function processItem(
  db: Database,
  input: { itemId: number; assessment: Assessment },
  options: ProcessOptions,
): Promise<ProcessedItem> {
  return db.transaction(async (tx) => {
    const [item] = await tx.select().from(items).where(eq(items.id, input.itemId)).for('update');
    if (!item) throw new AppError('not_found', `Item ${input.itemId} does not exist.`);
    return processItemInTransaction(tx, item, input.assessment, options);
  });
}

/**
 * The work of processing, on an item the caller has locked (or just inserted) in `tx`. Per-author and
 * per-conversation advisory locks (`lockKeysOf`) make two items of one conversation processed at the
 * same moment by two workers land in one ticket rather than two.
 *
 * Round trips are what an item costs, so independent statements are sent together (postgres.js
 * pipelines them on the transaction's connection; the server still runs them one after another, in
 * order, so the ticket lookups sent after the locks read what was committed before the locks were
 * granted), and the lock statement also reads what decides whether the incident and auto-ack
 * queries are needed at all.
 */
export async function processItemInTransaction(
  tx: Database,
  item: Item,
  assessment: Assessment,
  options: ProcessOptions,
): Promise<ProcessedItem> {
  if (item.processedAt && item.ticketId) {
    const [ticket] = await tx.select().from(tickets).where(eq(tickets.id, item.ticketId));
    if (ticket) return { outcome: 'already_processed', ticket, item };
  }
  const reads = await readForProcessing(tx, item, options.groupingWindowMinutes);
  return applyProcessing(tx, item, assessment, options, reads);
}

/** What decides grouping. */
type GroupingKey = Pick<
  Item,
  'sourceId' | 'authorId' | 'externalId' | 'conversationId' | 'parentExternalId' | 'createdAt' | 'archived'
>;

/**
 * The advisory locks an item's processing holds: its author's and its conversation's. An item
 * without a conversation id opens a ticket keyed by its own id (or joins its parent's), so that is
 * the conversation it locks: a per-item key, never one lock shared by every such item. Every
 * transaction takes its keys in ascending order of their hash (`lockItem`, and `lockBatch` in
 * process-batch.ts), so two never wait on each other in a cycle.
 */
export function lockKeysOf(item: GroupingKey): [author: string, conversation: string] {
  return [
    `earshot:author:${item.authorId}`,
    `earshot:conversation:${item.sourceId}:${item.conversationId ?? item.parentExternalId ?? item.externalId}`,
  ];
}

interface ProcessingReads {
  facts: LockFacts;
  parentTicketId: number | null;
  candidates: GroupingCandidate[];
}

/**
 * The locks, then everything grouping and opening a ticket read, sent together: the server runs
 * them one after another, so the ticket lookups read what was committed before the locks were granted.
 */
async function readForProcessing(tx: Database, key: GroupingKey, windowMinutes: number): Promise<ProcessingReads> {
  const [facts, parentTicketId, candidates] = await Promise.all([
    lockItem(tx, key),
    key.parentExternalId ? findParentTicketId(tx, key.sourceId, key.parentExternalId) : null,
    findCandidates(tx, key, windowMinutes),
  ]);
  return { facts, parentTicketId, candidates };
}

/** Groups the item, writes its ticket, event, card row and processed mark, and the follow-ups of a new ticket. */
async function applyProcessing(
  tx: Database,
  item: Item,
  assessment: Assessment,
  options: ProcessOptions,
  { facts, parentTicketId, candidates }: ProcessingReads,
): Promise<ProcessedItem> {
  const now = options.now ?? new Date();
  const chosen = parentTicketId ?? chooseTicketForItem(item, candidates, options.groupingWindowMinutes)?.id;
  const match = chosen ? await lockTicket(tx, chosen) : null;
  // Nothing but these three columns changes, so the item is not read back.
  const markProcessed = async (ticketId: number | SQL): Promise<void> => {
    await tx.execute(sql`
      update items set ticket_id = ${ticketId}, processed_at = ${now.toISOString()}::timestamptz,
        triage = ${JSON.stringify(assessment.triage)}::jsonb
      where id = ${item.id}`);
  };

  const done = item.archived
    ? await archiveItem(tx, match, item, assessment, markProcessed)
    : match
      ? await joinTicket(tx, match, item, assessment, now, markProcessed)
      : await openTicket(tx, item, assessment, now, facts.slaPolicies!, markProcessed);
  const { outcome, ticket } = done;
  // A declared incident takes in the later tickets of its wave as they arrive.
  const linked = outcome === 'archived' || !facts.incidentsOpen ? null : await linkTicketToIncidents(tx, ticket, now);
  if (outcome === 'opened') {
    // The routing rule's notice and the source's auto-acknowledgement, once per ticket, after its card.
    await queueRoutingNotice(tx, linked ?? ticket, assessment);
    if (facts.source && autoAckTemplateFor(facts.source)) await queueAutoAck(tx, linked ?? ticket, item);
  }
  return { outcome, ticket: linked ?? ticket, item: markedItem(item, ticket.id, now, assessment) };
}

/** The item as its processed mark leaves it (the three columns the mark writes), without reading it back. */
export function markedItem(item: Item, ticketId: number, now: Date, assessment: Assessment): Item {
  return { ...item, ticketId, processedAt: now, triage: assessment.triage as unknown as Record<string, unknown> };
}

interface LockFacts {
  /** Whether any incident is open: without one, no ticket can be linked to one. */
  incidentsOpen: boolean;
  source: Pick<Source, 'kind' | 'settings'> | null;
  /** The SLA policies a new ticket's due times come from; null for imported history, which has none. */
  slaPolicies: SlaPolicies | null;
}

/**
 * Takes the item's author and conversation locks and, in the same statement, reads what the
 * incident and auto-ack steps and a new ticket's SLA due times depend on (as of the statement's
 * start, which is all they need: none decides grouping). The SLA policies come as their stored
 * text, parsed only when it changed (`slaPoliciesFrom`): a statement and a zod parse fewer per item.
 */
async function lockItem(tx: Database, item: GroupingKey): Promise<LockFacts> {
  const [authorKey, conversationKey] = lockKeysOf(item);
  const [row] = rowsOf<{
    incidents_open: boolean;
    source_kind: Source['kind'] | null;
    source_settings: Source['settings'] | null;
    sla_policies: string | null;
  }>(
    await tx.execute(
      sql`select pg_advisory_xact_lock(least(hashtext(${authorKey}), hashtext(${conversationKey}))),
                 pg_advisory_xact_lock(greatest(hashtext(${authorKey}), hashtext(${conversationKey}))),
                 exists (select 1 from incidents where status = 'open') as incidents_open,
                 (select kind from sources where id = ${item.sourceId}) as source_kind,
                 (select settings from sources where id = ${item.sourceId}) as source_settings,
                 ${item.archived ? sql`null` : slaPoliciesText()} as sla_policies`,
    ),
  );
  return {
    incidentsOpen: row?.incidents_open !== false,
    source: row?.source_kind ? { kind: row.source_kind, settings: row.source_settings ?? {} } : null,
    slaPolicies: item.archived ? null : slaPoliciesFrom(row?.sla_policies ?? null),
  };
}

async function findParentTicketId(tx: Database, sourceId: number, parentExternalId: string): Promise<number | null> {
  const [parent] = await tx
    .select({ ticketId: items.ticketId })
    .from(items)
    .where(and(eq(items.sourceId, sourceId), eq(items.externalId, parentExternalId)));
  return parent?.ticketId ?? null;
}

async function findCandidates(tx: Database, item: GroupingKey, windowMinutes: number): Promise<GroupingCandidate[]> {
  const windowStart = new Date(item.createdAt.getTime() - windowMinutes * 60_000).toISOString();
  const sameAuthor = sql`(author_id = ${item.authorId} and last_customer_message_at >= ${windowStart}::timestamptz)`;
  const rows = rowsOf<{
    id: number;
    author_id: number;
    conversation_id: string | null;
    status: Ticket['status'];
    last_customer_message_at: string | Date;
  }>(
    await tx.execute(sql`
      select id, author_id, conversation_id, status, last_customer_message_at from tickets
      where source_id = ${item.sourceId}
        and ${item.conversationId ? sql`(conversation_id = ${item.conversationId} or ${sameAuthor})` : sameAuthor}
      order by last_customer_message_at desc limit 20`),
  );
  return rows.map((r) => ({
    id: r.id,
    authorId: r.author_id,
    conversationId: r.conversation_id,
    status: r.status,
    lastCustomerMessageAt: new Date(r.last_customer_message_at),
  }));
}

async function lockTicket(tx: Database, id: number): Promise<Ticket | null> {
  const [ticket] = await tx.select().from(tickets).where(eq(tickets.id, id)).for('update');
  return ticket ?? null;
}

/**
 * Marks the item processed into a ticket (its id, or SQL that finds it in the same round trip);
 * sent together with the ticket's last write.
 */
type MarkProcessed = (ticketId: number | SQL) => Promise<void>;

interface Done<O extends ProcessOutcome> {
  outcome: O;
  ticket: Ticket;
}

/** A new ticket's columns that come from its first item and its triage (live and archived alike). */
function ticketFromItem(item: Item, assessment: Assessment) {
  const { triage } = assessment;
  return {
    sourceId: item.sourceId,
    authorId: item.authorId,
    conversationId: item.conversationId ?? item.externalId,
    priority: assessment.priority,
    priorityReasons: assessment.priorityReasons,
    category: triage.category,
    sentiment: triage.sentiment,
    sentimentScore: triage.sentimentScore,
    language: triage.language,
    topics: triage.topics,
    tags: [...new Set([...assessment.tags, ...item.tags])],
    triage: triageDetails(assessment),
    spam: triage.spam ? 1 : 0,
    channel: assessment.channel,
    lastCustomerMessageAt: item.createdAt,
  };
}

/** A new live ticket's row: its first item's columns, its SLA due times, and the state it opens in. */
export function newTicketValues(item: Item, assessment: Assessment, now: Date, slaPolicies: SlaPolicies) {
  return {
    ...ticketFromItem(item, assessment),
    status: 'new' as const,
    // The clock starts when Earshot learns of the item, so a backfilled post is not born breached.
    ...computeDueTimes(assessment.priority, now, slaPolicies),
    // Set rather than left to the columns' defaults, so the event and card row sent with the insert carry them.
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

/** The `created` event a new live ticket's timeline starts with. */
export function createdEvent(item: Item, assessment: Assessment): EventInput {
  const { triage } = assessment;
  return {
    actor: INGEST_ACTOR,
    type: 'created',
    after: { status: 'new', priority: assessment.priority, category: triage.category, channel: assessment.channel },
    details: {
      itemId: item.id,
      provider: triage.provider,
      reasons: assessment.priorityReasons,
      notify: assessment.notify ?? null,
    },
  };
}

async function openTicket(
  tx: Database,
  item: Item,
  assessment: Assessment,
  now: Date,
  slaPolicies: SlaPolicies,
  markProcessed: MarkProcessed,
): Promise<Done<'opened'>> {
  const values = newTicketValues(item, assessment, now, slaPolicies);
  // The ticket is not back yet when its event, card row and the item's mark are sent (the three
  // statements go in one round trip): they find its id as the sequence's value in this session,
  // which the insert just before them on the transaction's connection has set.
  const ticketId = sql`currval(pg_get_serial_sequence('tickets', 'id'))`;
  // Raw SQL with drizzle's column encoding (insertInto): the builder costs far more CPU per item.
  const insertTicket = async () =>
    rowsOf<Record<string, unknown>>(await tx.execute(sql`${insertInto(tickets, values)} returning *`));
  // Called first, so its statement is the first sent.
  const [[row]] = await Promise.all([
    insertTicket(),
    recordEvent(
      tx,
      { id: ticketId, channel: assessment.channel, version: values.version },
      createdEvent(item, assessment),
    ),
    markProcessed(ticketId),
  ]);
  if (!row) throw new Error('insert into tickets returned no row');
  return { outcome: 'opened', ticket: rowOf(tickets, row) };
}

async function joinTicket(
  tx: Database,
  ticket: Ticket,
  item: Item,
  assessment: Assessment,
  now: Date,
  markProcessed: MarkProcessed,
): Promise<Done<'joined' | 'reopened'>> {
  // A ticket marked as spam keeps the author's further messages but stays closed, out of the queue.
  const status = ticket.spam ? ticket.status : nextStatus('customer_message', ticket);
  const reopened = !ticket.spam && (ticket.status === 'resolved' || ticket.status === 'closed');
  const raised = rank(assessment.priority) < rank(ticket.priority);
  const update = tx
    .update(tickets)
    .set({
      status,
      ...slaClockPatch(ticket, ticket.status, status, now),
      itemCount: sql`${tickets.itemCount} + 1`,
      lastCustomerMessageAt:
        item.createdAt > ticket.lastCustomerMessageAt ? item.createdAt : ticket.lastCustomerMessageAt,
      ...(raised ? { priority: assessment.priority, priorityReasons: assessment.priorityReasons } : {}),
      ...(reopened ? { resolvedAt: null, closedAt: null, resolutionSla: 'ok' as const } : {}),
      tags: [...new Set([...ticket.tags, ...assessment.tags, ...item.tags])],
      version: sql`${tickets.version} + 1`,
      updatedAt: now,
    })
    .where(eq(tickets.id, ticket.id))
    .returning();
  const [[updated]] = await Promise.all([update, markProcessed(ticket.id)]);
  if (!updated) throw new Error(`ticket ${ticket.id} vanished while locked`);
  await recordEvent(tx, updated, {
    actor: INGEST_ACTOR,
    type: reopened ? 'reopened' : 'customer_message',
    before: { status: ticket.status, priority: ticket.priority },
    after: { status: updated.status, priority: updated.priority },
    details: { itemId: item.id, reason: reopened ? 'the customer wrote again' : undefined },
  });
  return { outcome: reopened ? 'reopened' : 'joined', ticket: updated };
}

/**
 * Imported history (`items.archived`): the item opens a ticket that is already closed, dated when
 * the post was written, with no SLA due times, or quietly joins the ticket it belongs to without
 * reopening it. Its event is written without an outbox row, so Slack never shows a card for it.
 */
async function archiveItem(
  tx: Database,
  match: Ticket | null,
  item: Item,
  assessment: Assessment,
  markProcessed: MarkProcessed,
): Promise<Done<'archived'>> {
  const { triage } = assessment;
  let ticket: Ticket | undefined;
  if (match) {
    [ticket] = await tx
      .update(tickets)
      .set({
        itemCount: sql`${tickets.itemCount} + 1`,
        lastCustomerMessageAt:
          item.createdAt > match.lastCustomerMessageAt ? item.createdAt : match.lastCustomerMessageAt,
        tags: [...new Set([...match.tags, ...assessment.tags, ...item.tags])],
      })
      .where(eq(tickets.id, match.id))
      .returning();
  } else {
    [ticket] = await tx
      .insert(tickets)
      .values({
        ...ticketFromItem(item, assessment),
        status: 'closed',
        resolvedAt: item.createdAt,
        closedAt: item.createdAt,
        createdAt: item.createdAt,
        updatedAt: item.createdAt,
      })
      .returning();
  }
  if (!ticket) throw new Error('archiving an item returned no ticket');
  await Promise.all([
    tx.insert(ticketEvents).values(
      eventRow(ticket.id, {
        actor: INGEST_ACTOR,
        type: match ? 'customer_message' : 'created',
        after: match ? null : { status: ticket.status, priority: ticket.priority, category: ticket.category },
        details: { itemId: item.id, archived: true, provider: triage.provider },
      }),
    ),
    markProcessed(ticket.id),
  ]);
  return { outcome: 'archived', ticket };
}

function rank(priority: Priority): number {
  return Number(priority.slice(1));
}

function triageDetails(assessment: Assessment): Record<string, unknown> {
  const { triage } = assessment;
  return {
    provider: triage.provider,
    model: triage.model,
    confidence: triage.confidence,
    lowConfidence: triage.lowConfidence,
    emotion: triage.emotion,
    urgency: triage.urgency,
    offensive: triage.offensive,
    pii: triage.pii,
    priorityScore: assessment.priorityScore,
  };
}
