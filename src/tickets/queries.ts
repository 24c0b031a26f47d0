import { and, asc, desc, eq, ilike, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { union } from 'drizzle-orm/pg-core';
import type { Database } from '../db/database.js';
import { authors, items, sources, ticketEvents, tickets } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { type Author, type Item, OPEN_STATUSES, type Source, type Ticket, type TicketEvent } from './types.js';

/** Everything a card needs: the ticket, who wrote, where, and the messages so far. */
export interface TicketView {
  ticket: Ticket;
  author: Author;
  source: Source;
  /** The customer's messages, oldest first. */
  items: Item[];
}

export async function getTicket(db: Database, id: number): Promise<Ticket | null> {
  const [ticket] = await db.select().from(tickets).where(eq(tickets.id, id));
  return ticket ?? null;
}

export async function getTicketView(db: Database, id: number): Promise<TicketView> {
  const [row] = await db
    .select({ ticket: tickets, author: authors, source: sources })
    .from(tickets)
    .innerJoin(authors, eq(authors.id, tickets.authorId))
    .innerJoin(sources, eq(sources.id, tickets.sourceId))
    .where(eq(tickets.id, id));
  if (!row) throw new AppError('not_found', `Ticket #${id} does not exist.`, { details: { ticketId: id } });
  const messages = await db
    .select()
    .from(items)
    .where(eq(items.ticketId, id))
    .orderBy(asc(items.createdAt), asc(items.id));
  return { ...row, items: messages };
}

export async function getTicketBySlackMessage(db: Database, channel: string, ts: string): Promise<Ticket | null> {
  const [ticket] = await db
    .select()
    .from(tickets)
    .where(and(eq(tickets.slackTs, ts), eq(tickets.channel, channel)));
  return ticket ?? null;
}

/** The timeline, oldest first: the audit log and the source of the card's thread. */
export async function getTimeline(db: Database, ticketId: number): Promise<TicketEvent[]> {
  return db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, ticketId)).orderBy(asc(ticketEvents.id));
}

const priorityOrder = sql`${tickets.priority}`;

/**
 * The open queue: unclaimed first, then by priority, then oldest first, spam left out. WHERE and
 * ORDER BY are written as tickets_open_queue_idx is (literals, not parameters, so the planner can
 * prove the partial index applies), which lets the index hand rows over in order: no sort.
 */
export async function listOpenQueue(
  db: Database,
  options: { limit: number; unclaimedOnly?: boolean },
): Promise<Ticket[]> {
  return openQueueQuery(db, options);
}

/** listOpenQueue's statement, unexecuted: for EXPLAIN in the test that holds it to its index. */
export function openQueueQuery(db: Database, options: { limit: number; unclaimedOnly?: boolean }) {
  return db
    .select()
    .from(tickets)
    .where(openQueueWhere(options))
    .orderBy(sql`(${tickets.assignee} is not null)`, tickets.priority, asc(tickets.createdAt))
    .limit(options.limit);
}

/** How many tickets listOpenQueue would answer without its limit. */
export async function countOpenQueue(db: Database, options: { unclaimedOnly?: boolean } = {}): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(tickets).where(openQueueWhere(options));
  return Number(row?.n ?? 0);
}

function openQueueWhere(options: { unclaimedOnly?: boolean }) {
  const queued = sql`${tickets.status} in ('new', 'claimed', 'waiting') and ${tickets.spam} = 0`;
  return and(queued, options.unclaimedOnly ? isNull(tickets.assignee) : undefined);
}

/** One agent's open tickets, most urgent first. */
export async function listAssignedTickets(
  db: Database,
  slackUserId: string,
  options: { limit: number },
): Promise<Ticket[]> {
  return db
    .select()
    .from(tickets)
    .where(assignedWhere(slackUserId))
    .orderBy(priorityOrder, asc(tickets.createdAt))
    .limit(options.limit);
}

/** How many tickets listAssignedTickets would answer without its limit. */
export async function countAssignedTickets(db: Database, slackUserId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(tickets).where(assignedWhere(slackUserId));
  return Number(row?.n ?? 0);
}

function assignedWhere(slackUserId: string) {
  return and(eq(tickets.assignee, slackUserId), inArray(tickets.status, [...OPEN_STATUSES]));
}

/**
 * `/earshot find`: `#123` finds a ticket by id, `@handle` by author, anything else searches the
 * customer's text. Newest first.
 */
export async function findTickets(db: Database, query: string, options: { limit: number }): Promise<Ticket[]> {
  const q = query.trim();
  const byId = /^#?(\d+)$/.exec(q);
  if (byId) {
    const ticket = await getTicket(db, Number(byId[1]));
    return ticket ? [ticket] : [];
  }
  if (q.startsWith('@')) return findByAuthorQuery(db, q.slice(1), options.limit);
  if (q.length < 2) return [];
  return findByTextQuery(db, q, options.limit);
}

/** An author's tickets, by handle (case ignored) or by the source's id for them. */
export function findByAuthorQuery(db: Database, handle: string, limit: number) {
  // A union rather than an OR, so each side reads its own index. The external id's unique index
  // leads with source_id: naming every source (a handful) lets it be probed once per source instead
  // of read whole.
  const authorIds = union(
    db.select({ id: authors.id }).from(authors).where(sql`lower(${authors.handle}) = ${handle.toLowerCase()}`),
    db
      .select({ id: authors.id })
      .from(authors)
      .where(
        and(
          sql`${authors.sourceId} = any(array(select ${sources.id} from ${sources}))`,
          eq(authors.externalId, handle),
        ),
      ),
  );
  return db
    .select()
    .from(tickets)
    .where(inArray(tickets.authorId, authorIds))
    .orderBy(desc(tickets.createdAt))
    .limit(limit);
}

/** Tickets any of whose messages contain `words` (case ignored, taken literally). */
export function findByTextQuery(db: Database, words: string, limit: number) {
  const pattern = `%${words.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  // A semi-join, not a DISTINCT over the join: PostgreSQL either reads the few matching items from
  // the trigram index (items_text_trgm_idx) or, for common words, walks tickets newest first and
  // stops at the limit.
  return db
    .select()
    .from(tickets)
    .where(
      inArray(
        tickets.id,
        // `ticket_id is not null` says nothing new here; it lets PostgreSQL use the partial index.
        db
          .select({ id: items.ticketId })
          .from(items)
          .where(and(isNotNull(items.ticketId), ilike(items.text, pattern))),
      ),
    )
    .orderBy(desc(tickets.createdAt))
    .limit(limit);
}

/** One customer's history on a source: all their tickets, newest first. */
export async function listAuthorTickets(db: Database, authorId: number, options: { limit: number }): Promise<Ticket[]> {
  return db
    .select()
    .from(tickets)
    .where(eq(tickets.authorId, authorId))
    .orderBy(desc(tickets.lastCustomerMessageAt))
    .limit(options.limit);
}
