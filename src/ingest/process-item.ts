import { and, desc, eq, gte, or, sql } from 'drizzle-orm';
import { linkTicketToIncidents } from '../crisis/respond.js';
import type { Database } from '../db/database.js';
import { items, ticketEvents, tickets } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { queueAutoAck } from '../replies/auto-ack.js';
import { computeDueTimes } from '../sla/policy.js';
import { loadSlaPolicies } from '../sla/settings.js';
import { chooseTicketForItem, type GroupingCandidate } from '../tickets/grouping.js';
import { nextStatus } from '../tickets/lifecycle.js';
import { slaClockPatch } from '../tickets/sla-clock.js';
import { recordEvent } from '../tickets/timeline.js';
import { type Actor, actorId, type Item, type Priority, type Ticket } from '../tickets/types.js';
import { queueRoutingNotice } from '../triage/routing-notice.js';
import type { Assessment } from '../triage/types.js';
import { type InboundItem, storeItemInTransaction, validateInbound } from './store-item.js';

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
 * Stores and processes an item in one transaction, for triage fast enough to run before it (the
 * embedded classifier): one commit per item instead of two. A repeat returns the stored item's ticket.
 */
export async function ingestItem(
  db: Database,
  inbound: InboundItem,
  assess: (text: string) => Assessment | Promise<Assessment>,
  options: ProcessOptions & { maxTextLength: number },
): Promise<ProcessedItem & { duplicate: boolean }> {
  const text = validateInbound(inbound, options);
  const assessment = await assess(text);
  return db.transaction(async (tx) => {
    const stored = await storeItemInTransaction(tx, inbound, text);
    const item = stored.duplicate
      ? (await tx.select().from(items).where(eq(items.id, stored.item.id)).for('update'))[0]!
      : stored.item;
    const processed = await processItemInTransaction(tx, item, assessment, options);
    return { ...processed, duplicate: stored.duplicate };
  });
}

/**
 * The work of processing, on an item the caller has locked (or just inserted) in `tx`. Per-author and
 * per-conversation advisory locks, always taken in that order, make two items of one conversation
 * processed at the same moment by two workers land in one ticket rather than two.
 */
async function processItemInTransaction(
  tx: Database,
  item: Item,
  assessment: Assessment,
  options: ProcessOptions,
): Promise<ProcessedItem> {
  const now = options.now ?? new Date();
  if (item.processedAt && item.ticketId) {
    const [ticket] = await tx.select().from(tickets).where(eq(tickets.id, item.ticketId));
    if (ticket) return { outcome: 'already_processed', ticket, item };
  }
  // An item without a conversation id opens a ticket keyed by its own id (or joins its parent's), so
  // that is the conversation it locks: a per-item key, never one lock shared by every such item.
  const conversationKey = `earshot:conversation:${item.sourceId}:${item.conversationId ?? item.parentExternalId ?? item.externalId}`;
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtext(${`earshot:author:${item.authorId}`})),
               pg_advisory_xact_lock(hashtext(${conversationKey}))`,
  );

  const match = await findConversationTicket(tx, item, options.groupingWindowMinutes);
  const { outcome, ticket } = item.archived
    ? await archiveItem(tx, match, item, assessment)
    : match
      ? await joinTicket(tx, match, item, assessment, now)
      : { outcome: 'opened' as const, ticket: await openTicket(tx, item, assessment, now) };
  // A declared incident takes in the later tickets of its wave as they arrive.
  const linked = outcome === 'archived' ? null : await linkTicketToIncidents(tx, ticket, now);
  if (outcome === 'opened') {
    // The routing rule's notice and the source's auto-acknowledgement, once per ticket, after its card.
    await queueRoutingNotice(tx, linked ?? ticket, assessment);
    await queueAutoAck(tx, linked ?? ticket, item);
  }

  const [processed] = await tx
    .update(items)
    .set({ ticketId: ticket.id, processedAt: now, triage: assessment.triage as unknown as Record<string, unknown> })
    .where(eq(items.id, item.id))
    .returning();
  return { outcome, ticket: linked ?? ticket, item: processed! };
}

async function findConversationTicket(tx: Database, item: Item, windowMinutes: number): Promise<Ticket | null> {
  if (item.parentExternalId) {
    const [parent] = await tx
      .select({ ticketId: items.ticketId })
      .from(items)
      .where(and(eq(items.sourceId, item.sourceId), eq(items.externalId, item.parentExternalId)));
    if (parent?.ticketId) return lockTicket(tx, parent.ticketId);
  }
  const windowStart = new Date(item.createdAt.getTime() - windowMinutes * 60_000);
  const sameConversation = item.conversationId ? eq(tickets.conversationId, item.conversationId) : undefined;
  const sameAuthor = and(eq(tickets.authorId, item.authorId), gte(tickets.lastCustomerMessageAt, windowStart));
  const candidates: GroupingCandidate[] = await tx
    .select({
      id: tickets.id,
      authorId: tickets.authorId,
      conversationId: tickets.conversationId,
      status: tickets.status,
      lastCustomerMessageAt: tickets.lastCustomerMessageAt,
    })
    .from(tickets)
    .where(and(eq(tickets.sourceId, item.sourceId), sameConversation ? or(sameConversation, sameAuthor) : sameAuthor))
    .orderBy(desc(tickets.lastCustomerMessageAt))
    .limit(20);
  const chosen = chooseTicketForItem(item, candidates, windowMinutes);
  return chosen ? lockTicket(tx, chosen.id) : null;
}

async function lockTicket(tx: Database, id: number): Promise<Ticket | null> {
  const [ticket] = await tx.select().from(tickets).where(eq(tickets.id, id)).for('update');
  return ticket ?? null;
}

async function openTicket(tx: Database, item: Item, assessment: Assessment, now: Date): Promise<Ticket> {
  const { triage } = assessment;
  const [ticket] = await tx
    .insert(tickets)
    .values({
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
      // The clock starts when Earshot learns of the item, so a backfilled post is not born breached.
      ...computeDueTimes(assessment.priority, now, await loadSlaPolicies(tx)),
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!ticket) throw new Error('insert into tickets returned no row');
  await recordEvent(tx, ticket, {
    actor: INGEST_ACTOR,
    type: 'created',
    after: { status: ticket.status, priority: ticket.priority, category: ticket.category, channel: ticket.channel },
    details: {
      itemId: item.id,
      provider: triage.provider,
      reasons: assessment.priorityReasons,
      notify: assessment.notify ?? null,
    },
  });
  return ticket;
}

async function joinTicket(
  tx: Database,
  ticket: Ticket,
  item: Item,
  assessment: Assessment,
  now: Date,
): Promise<{ outcome: 'joined' | 'reopened'; ticket: Ticket }> {
  // A ticket marked as spam keeps the author's further messages but stays closed, out of the queue.
  const status = ticket.spam ? ticket.status : nextStatus('customer_message', ticket);
  const reopened = !ticket.spam && (ticket.status === 'resolved' || ticket.status === 'closed');
  const raised = rank(assessment.priority) < rank(ticket.priority);
  const [updated] = await tx
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
): Promise<{ outcome: 'archived'; ticket: Ticket }> {
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
        sourceId: item.sourceId,
        authorId: item.authorId,
        conversationId: item.conversationId ?? item.externalId,
        status: 'closed',
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
        resolvedAt: item.createdAt,
        closedAt: item.createdAt,
        createdAt: item.createdAt,
        updatedAt: item.createdAt,
      })
      .returning();
  }
  if (!ticket) throw new Error('archiving an item returned no ticket');
  await tx.insert(ticketEvents).values({
    ticketId: ticket.id,
    actor: actorId(INGEST_ACTOR),
    type: match ? 'customer_message' : 'created',
    after: match ? null : { status: ticket.status, priority: ticket.priority, category: ticket.category },
    details: { itemId: item.id, archived: true, provider: triage.provider },
  });
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
