import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { outbox, ticketEvents } from '../db/schema/index.js';
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
 * Appends an event to a ticket's timeline and, in the same transaction, queues what Slack must
 * show: a refresh of the card (one pending refresh per ticket, whatever the number of changes) and
 * a line in the card's thread. Call it with the transaction that changed the ticket.
 */
export async function recordEvent(tx: Database, ticket: Ticket, input: EventInput): Promise<TicketEvent> {
  const [event] = await tx
    .insert(ticketEvents)
    .values({
      ticketId: ticket.id,
      actor: actorId(input.actor),
      type: input.type,
      before: input.before ?? null,
      after: input.after ?? null,
      details: input.details ?? {},
    })
    .returning();
  if (!event) throw new Error('insert into ticket_events returned no row');
  await queueCardRefresh(tx, ticket);
  if (!SILENT_EVENTS.has(input.type)) {
    await tx
      .insert(outbox)
      .values({
        kind: 'thread',
        channel: ticket.channel,
        ticketId: ticket.id,
        eventId: event.id,
        dedupeKey: `thread:${event.id}`,
        payload: { eventId: event.id },
      })
      .onConflictDoNothing();
  }
  return event;
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
    .values({
      kind: 'card',
      channel: ticket.channel,
      ticketId: ticket.id,
      dedupeKey: `card:${ticket.id}`,
      payload: { version: ticket.version },
    })
    .onConflictDoUpdate({
      target: outbox.dedupeKey,
      targetWhere: sql`${outbox.status} = 'pending' and ${outbox.dedupeKey} is not null`,
      set: { payload: sql`excluded.payload`, channel: sql`excluded.channel` },
    });
}
