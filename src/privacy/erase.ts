import { createHash } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import { type Database, intArray, rowsOf, textArray } from '../db/database.js';

/**
 * The building blocks of erasure, shared by the retention job and `/earshot forget`. Anonymizing
 * drops what identifies or quotes a customer (text, raw payload, links, handles, agents' free text)
 * and keeps what the reports count: rows, categories, sentiment, topics, statuses and timings.
 * Post ids are kept, so a post delivered again is still recognised as stored and not taken in anew.
 * Callers run these in a transaction that called allowEventRewrite (ticket_events is append-only).
 */

/** Timeline details that can hold free text about a customer: replies, notes, reasons, error bodies. */
const EVENT_TEXT_KEYS = ['text', 'note', 'reason', 'previousError', 'externalIds'];

/** What an erased reply still pending says instead of going out. */
export const CANCELLED_REPLY = "cancelled: the customer's data was erased";

export interface ErasedTickets {
  tickets: number;
  events: number;
  replies: number;
  outbox: number;
}

/**
 * Anonymizes tickets and what hangs off them, in the caller's transaction (after
 * allowEventRewrite): the ticket keeps its counts and clocks and is marked `triage.anonymizedAt`;
 * its timeline loses free text; its replies lose their text and the ids of the posts they became
 * (a reply still pending is cancelled, never sent empty); delivered Slack deliveries are dropped.
 */
export async function anonymizeTickets(tx: Database, ticketIds: readonly number[], now: Date): Promise<ErasedTickets> {
  if (ticketIds.length === 0) return { tickets: 0, events: 0, replies: 0, outbox: 0 };
  const ids = intArray(ticketIds);
  const keys = textArray(EVENT_TEXT_KEYS);
  const ticketRows = rowsOf<{ id: number }>(
    await tx.execute(sql`
      update tickets
      set conversation_id = null, escalation_reason = null,
          triage = (triage - 'pii') || jsonb_build_object('anonymizedAt', ${now.toISOString()}::text),
          updated_at = ${now.toISOString()}::timestamptz
      where id = any(${ids})
      returning id`),
  );
  const eventRows = rowsOf<{ id: number }>(
    await tx.execute(sql`
      update ticket_events
      set details = details - ${keys}, before = before - 'escalationReason', after = after - 'escalationReason'
      where ticket_id = any(${ids})
        and (details ?| ${keys} or coalesce(before ? 'escalationReason', false) or coalesce(after ? 'escalationReason', false))
      returning id`),
  );
  const replyRows = rowsOf<{ id: number }>(
    await tx.execute(sql`
      update replies
      set text = '', parts = '[]'::jsonb, external_ids = '[]'::jsonb,
          status = case when status = 'pending' then 'failed'::delivery_status else status end,
          last_error = case when status = 'pending' then ${CANCELLED_REPLY} else null end
      where ticket_id = any(${ids}) and (text <> '' or status = 'pending')
      returning id`),
  );
  const outboxRows = rowsOf<{ id: number }>(
    await tx.execute(sql`delete from outbox where ticket_id = any(${ids}) and status <> 'pending' returning id`),
  );
  return {
    tickets: ticketRows.length,
    events: eventRows.length,
    replies: replyRows.length,
    outbox: outboxRows.length,
  };
}

/**
 * Anonymizes the items `where` selects (a condition on the `items` table) that still hold text:
 * text, raw payload, link and conversation ids go, triage keeps its labels and loses its PII offsets.
 * Returns the authors of the items it changed.
 */
export async function anonymizeItems(tx: Database, where: SQL): Promise<{ items: number; authorIds: number[] }> {
  const rows = rowsOf<{ author_id: number }>(
    await tx.execute(sql`
      update items
      set text = '', raw = null, url = null, conversation_id = null, parent_external_id = null,
          triage = case when triage is null then null else triage - 'pii' end
      where (${where}) and text <> ''
      returning author_id`),
  );
  return { items: rows.length, authorIds: [...new Set(rows.map((r) => Number(r.author_id)))] };
}

/** The author rows of a source as erased: no handle, name or external id; counts untouched. */
function erasedAuthorSet(now: Date): SQL {
  return sql`handle = null, display_name = null, external_id = 'erased:' || id, follower_count = 0,
             verified = false, vip = false, updated_at = ${now.toISOString()}::timestamptz`;
}

/** Anonymizes authors unconditionally (a privacy request names them). */
export async function anonymizeAuthors(tx: Database, authorIds: readonly number[], now: Date): Promise<number> {
  if (authorIds.length === 0) return 0;
  const rows = rowsOf<{ id: number }>(
    await tx.execute(sql`
      update authors set ${erasedAuthorSet(now)}
      where id = any(${intArray(authorIds)}) and external_id not like 'erased:%'
      returning id`),
  );
  return rows.length;
}

/**
 * Anonymizes the authors among `authorIds` that have nothing left that is not anonymized: every
 * item erased and every ticket marked. An author who still has a live ticket keeps their identity.
 */
export async function anonymizeSpentAuthors(tx: Database, authorIds: readonly number[], now: Date): Promise<number> {
  if (authorIds.length === 0) return 0;
  const rows = rowsOf<{ id: number }>(
    await tx.execute(sql`
      update authors a set ${erasedAuthorSet(now)}
      where a.id = any(${intArray(authorIds)}) and a.external_id not like 'erased:%'
        and not exists (select 1 from items i where i.author_id = a.id and i.text <> '')
        and not exists (select 1 from tickets t where t.author_id = a.id and not (t.triage ? 'anonymizedAt'))
      returning a.id`),
  );
  return rows.length;
}

/** Deletes the authors among `authorIds` that have no item and no ticket left. */
export async function deleteSpentAuthors(tx: Database, authorIds: readonly number[]): Promise<number> {
  if (authorIds.length === 0) return 0;
  const rows = rowsOf<{ id: number }>(
    await tx.execute(sql`
      delete from authors a
      where a.id = any(${intArray(authorIds)})
        and not exists (select 1 from items i where i.author_id = a.id)
        and not exists (select 1 from tickets t where t.author_id = a.id)
      returning a.id`),
  );
  return rows.length;
}

/**
 * Drops the OpenAI triage cache entries of these texts. The cache is keyed by a hash of the text, so
 * a text that is gone from the items must not stay provable from the cache.
 */
export async function forgetCachedTriage(tx: Database, texts: readonly string[]): Promise<number> {
  const hashes = [...new Set(texts.filter(Boolean).map((t) => createHash('sha256').update(t).digest('hex')))];
  if (hashes.length === 0) return 0;
  const rows = rowsOf<{ key: string }>(
    await tx.execute(sql`
      delete from triage_cache where key like 'openai:%' and right(key, 64) = any(${textArray(hashes)}) returning key`),
  );
  return rows.length;
}
