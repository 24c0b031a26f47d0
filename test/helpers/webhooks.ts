import { and, eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { items, tickets } from '../../src/db/schema/index.js';
import type { Source, Ticket } from '../../src/tickets/types.js';
import { waitFor } from '../ingest/helpers.js';

/** The headers a channel sends with a webhook delivery, signed per Standard Webhooks with `secret`. */
export function signedHeaders(secret: string, id: string, payload: string, at = new Date()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, payload),
  };
}

/**
 * Posts `body` to a running Earshot's `/ingest/<source>`, signed with the source's secret, expects
 * 202, and waits for the item to become a ticket: the ticket as stored then.
 */
export async function postUntilTicket(
  app: { url: string; db: Database },
  source: Pick<Source, 'id' | 'name' | 'secret'>,
  body: { id: string } & Record<string, unknown>,
): Promise<Ticket> {
  const payload = JSON.stringify(body);
  const res = await fetch(`${app.url}/ingest/${source.name}`, {
    method: 'POST',
    body: payload,
    headers: signedHeaders(source.secret!, `msg_${body.id}`, payload),
  });
  expect(res.status).toBe(202);
  let ticketId: number | null = null;
  await waitFor(async () => {
    const [item] = await app.db
      .select()
      .from(items)
      .where(and(eq(items.sourceId, source.id), eq(items.externalId, body.id)));
    ticketId = item?.ticketId ?? null;
    return ticketId !== null;
  }, `item ${body.id} processed`);
  const [ticket] = await app.db.select().from(tickets).where(eq(tickets.id, ticketId!));
  return ticket!;
}
