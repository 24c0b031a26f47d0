import { type SQL, sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';
import { outbox } from '../db/schema/index.js';
import type { Actor, Ticket, TicketEvent } from './types.js';
import { actorId } from './types.js';

/** Event types whose thread line would only repeat the card itself. */
const SILENT_EVENTS: ReadonlySet<string> = new Set(['created']);

export interface EventInput {
  actor: Actor;
  type: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  details?: Record<string, unknown>;
}

/**
 * The ticket an event is recorded on: its id may be SQL that finds it, so the event can be sent in
 * the same round trip as the statement that inserts the ticket (ingestion's new tickets).
 */
export type EventTicket = Pick<Ticket, 'channel' | 'version'> & { id: number | SQL };

/**
 * Appends an event to a ticket's timeline and, in the same transaction, queues what Slack must
 * show: a refresh of the card (one pending refresh per ticket, whatever the number of changes) and
 * a line in the card's thread. Call it with the transaction that changed the ticket. One statement
 * does all three writes: ingestion runs this for every item, and round trips are its cost.
 */
export async function recordEvent(tx: Database, ticket: EventTicket, input: EventInput): Promise<TicketEvent> {
  const threadLine = !SILENT_EVENTS.has(input.type);
  const result = await tx.execute(sql`
    with event as (
      insert into ticket_events (ticket_id, actor, type, before, after, details)
      values (${ticket.id}, ${actorId(input.actor)}, ${input.type}, ${json(input.before)}, ${json(input.after)},
              ${JSON.stringify(input.details ?? {})}::jsonb)
      returning *
    ),
    card as (
      insert into outbox (kind, channel, ticket_id, dedupe_key, payload)
      values ('card', ${ticket.channel}, ${ticket.id}, 'card:' || (${ticket.id})::text,
              ${JSON.stringify({ version: ticket.version })}::jsonb)
      on conflict (dedupe_key) where status = 'pending' and dedupe_key is not null
      do update set payload = excluded.payload, channel = excluded.channel
    ),
    thread as (
      insert into outbox (kind, channel, ticket_id, event_id, dedupe_key, payload)
      select 'thread', ${ticket.channel}, ${ticket.id}, event.id, 'thread:' || event.id, jsonb_build_object('eventId', event.id)
      from event where ${threadLine}
      on conflict do nothing
    )
    select * from event`);
  const [row] = rowsOf<EventRow>(result);
  if (!row) throw new Error('insert into ticket_events returned no row');
  return {
    id: row.id,
    ticketId: row.ticket_id,
    actor: row.actor,
    type: row.type,
    before: row.before,
    after: row.after,
    details: row.details,
    createdAt: new Date(row.created_at),
  };
}

interface EventRow {
  id: number;
  ticket_id: number;
  actor: string;
  type: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  details: Record<string, unknown>;
  created_at: string | Date;
}

function json(value: Record<string, unknown> | null | undefined) {
  return value == null ? sql`null` : sql`${JSON.stringify(value)}::jsonb`;
}

/** An event's row in `ticket_events`, as `recordEvent` writes it (for callers that insert many at once). */
export function eventRow(ticketId: number, input: EventInput) {
  return {
    ticketId,
    actor: actorId(input.actor),
    type: input.type,
    before: input.before ?? null,
    after: input.after ?? null,
    details: input.details ?? {},
  };
}

/** The outbox row that renders a ticket's card at its version: one pending per ticket (`card:<id>`). */
export function cardRefreshRow(ticket: Pick<Ticket, 'id' | 'channel' | 'version'>) {
  return {
    kind: 'card' as const,
    channel: ticket.channel,
    ticketId: ticket.id,
    dedupeKey: `card:${ticket.id}`,
    payload: { version: ticket.version },
  };
}

/**
 * Queues one card render for the ticket at its current version. A refresh already pending is
 * moved to the newer version rather than duplicated, so a burst of changes costs one `chat.update`;
 * the delivery worker marks a row done only if the version it rendered is still the row's version.
 */
export async function queueCardRefresh(
  tx: Database,
  ticket: Pick<Ticket, 'id' | 'channel' | 'version'>,
): Promise<void> {
  await tx
    .insert(outbox)
    .values(cardRefreshRow(ticket))
    .onConflictDoUpdate({
      target: outbox.dedupeKey,
      targetWhere: sql`${outbox.status} = 'pending' and ${outbox.dedupeKey} is not null`,
      set: { payload: sql`excluded.payload`, channel: sql`excluded.channel` },
    });
}

/**
 * ticket_events is append-only (a trigger refuses UPDATE and DELETE, except a ticket's events going
 * with the ticket). Privacy work that must anonymize or delete events in place calls this first,
 * inside its transaction; the permission ends with the transaction.
 */
export async function allowEventRewrite(tx: Database): Promise<void> {
  await tx.execute(sql`select set_config('earshot.allow_event_rewrite', 'on', true)`);
}
