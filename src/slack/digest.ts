import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { authors, items, outbox, tickets } from '../db/schema/index.js';
import type { DigestEntry } from './blocks/digest-card.js';

/** The outbox kind of a digest: the row is both the digest's delivery and its stored list of tickets. */
export const DIGEST_KIND = 'digest';

/** What a digest row's payload holds. */
export interface DigestPayload {
  ticketIds: number[];
  windowMinutes: number;
}

/** Reads a digest payload, ignoring anything malformed. */
export function readDigestPayload(payload: Record<string, unknown>): DigestPayload {
  const ids = Array.isArray(payload.ticketIds) ? payload.ticketIds : [];
  return {
    ticketIds: ids.filter((id): id is number => Number.isSafeInteger(id) && (id as number) > 0),
    windowMinutes: Number.isFinite(payload.windowMinutes) ? Number(payload.windowMinutes) : 5,
  };
}

/** The tickets a digest stands for, or null when there is no such digest. */
export async function getDigest(db: Database, digestId: number): Promise<DigestPayload | null> {
  const [row] = await db
    .select({ payload: outbox.payload })
    .from(outbox)
    .where(and(eq(outbox.id, digestId), eq(outbox.kind, DIGEST_KIND)));
  return row ? readDigestPayload(row.payload) : null;
}

/**
 * One page of a digest's tickets, most urgent first (then oldest), with their author's handle and
 * first message (and its triage, for PII masking).
 */
export async function listDigestEntries(
  db: Database,
  ticketIds: readonly number[],
  page: { offset: number; limit: number },
): Promise<DigestEntry[]> {
  if (ticketIds.length === 0) return [];
  const rows = await db
    .select({
      id: tickets.id,
      priority: tickets.priority,
      category: tickets.category,
      status: tickets.status,
      handle: authors.handle,
    })
    .from(tickets)
    .innerJoin(authors, eq(authors.id, tickets.authorId))
    .where(inArray(tickets.id, [...ticketIds]))
    .orderBy(asc(tickets.priority), asc(tickets.id))
    .limit(page.limit)
    .offset(page.offset);
  if (rows.length === 0) return [];
  const texts = await db
    .select({ ticketId: items.ticketId, text: items.text, triage: items.triage })
    .from(items)
    .where(
      inArray(
        items.ticketId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(items.id));
  const first = new Map<number, { text: string; triage: unknown }>();
  for (const row of texts) if (row.ticketId !== null && !first.has(row.ticketId)) first.set(row.ticketId, row);
  return rows.map((row) => ({
    id: row.id,
    priority: row.priority,
    category: row.category,
    status: row.status,
    handle: row.handle,
    text: first.get(row.id)?.text ?? '',
    triage: first.get(row.id)?.triage ?? null,
  }));
}
