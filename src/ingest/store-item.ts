import { and, eq, type SQL, sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';
import { insertInto, rowOf } from '../db/rows.js';
import { authors, items } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import type { Author, Item } from '../tickets/types.js';

/** An inbound post or message from any channel, in Earshot's own shape. */
export interface InboundItem {
  sourceId: number;
  externalId: string;
  author: {
    externalId: string;
    handle?: string | null;
    displayName?: string | null;
    followerCount?: number | null;
    verified?: boolean | null;
    language?: string | null;
  };
  text: string;
  url?: string | null;
  createdAt: Date;
  conversationId?: string | null;
  parentExternalId?: string | null;
  language?: string | null;
  raw?: unknown;
  /** Tags the source attaches (the X monitoring rule that matched); they join the ticket's tags. */
  tags?: readonly string[];
  /** Imported history: the ticket is stored closed, with no card and no SLA clock. */
  archived?: boolean;
}

export interface StoredItem {
  item: Item;
  author: Author;
  /** True when this (source, external id) had already arrived: nothing was written. */
  duplicate: boolean;
}

// C0 controls other than tab and newline, DEL, and the C1 block: they only ever break layouts.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/** Canonical text: NFC, no control characters, Windows line ends folded, outer space trimmed. */
export function normalizeText(text: string): string {
  return text.normalize('NFC').replace(/\r\n?/g, '\n').replace(CONTROL_CHARACTERS, '').trim();
}

/**
 * Stores an inbound item exactly once per (source, external id), with its author, and returns it.
 * This is the durable receipt: once it returns, the item survives a crash and the triage queue will
 * get to it. A repeat (stream overlap, webhook resend, backfill) returns the stored row untouched.
 */
export async function storeItem(
  db: Database,
  inbound: InboundItem,
  limits: { maxTextLength: number },
): Promise<StoredItem> {
  const text = validateInbound(inbound, limits);
  return db.transaction((tx) => storeItemInTransaction(tx, inbound, text));
}

/** Checks an inbound item and returns its normalized text; throws a coded error for bad input. */
export function validateInbound(inbound: InboundItem, limits: { maxTextLength: number }): string {
  const text = normalizeText(inbound.text);
  if (!text) throw new AppError('invalid_input', 'The item has no text.', { details: { field: 'text' } });
  if (text.length > limits.maxTextLength) {
    throw new AppError(
      'payload_too_large',
      `The text is ${text.length} characters; the limit is ${limits.maxTextLength}.`,
      {
        details: { field: 'text', length: text.length, limit: limits.maxTextLength },
      },
    );
  }
  if (!inbound.externalId.trim())
    throw new AppError('invalid_input', 'The item has no id.', { details: { field: 'id' } });
  return text;
}

/**
 * Looks the post up first (the unique key on source and external id) and on a repeat returns it
 * with its stored author, never touching `authors`: a post delivered again after its author was
 * erased (`/earshot forget`, retention) must not bring their handle and name back. The insert keeps
 * its conflict guard for two deliveries of one post racing past the lookup.
 */
export async function storeItemInTransaction(tx: Database, inbound: InboundItem, text: string): Promise<StoredItem> {
  const stored = await findStoredItem(tx, inbound.sourceId, inbound.externalId);
  if (stored) return { ...stored, duplicate: true };
  const author = await upsertAuthor(tx, inbound.sourceId, inbound.author);
  const inserted = await insertItem(tx, inbound, text, author.id);
  if (inserted) return { item: inserted, author, duplicate: false };
  return racedDuplicate(tx, inbound);
}

/**
 * `storeItemInTransaction` for a caller that has just looked (source, external id) up and not found
 * it: the author upsert and the item insert are one statement (the insert takes the author's id
 * from the upsert), so the caller can send it together with statements that find the author by its
 * key. A delivery racing past that lookup is caught by the insert's conflict guard and answered as a
 * repeat, as there.
 */
export async function storeUnseenItemInTransaction(
  tx: Database,
  inbound: InboundItem,
  text: string,
): Promise<StoredItem> {
  // Rows come back as JSON, decoded column by column as drizzle decodes them (rowOf).
  const [row] = rowsOf<{ author: Record<string, unknown> | null; item: Record<string, unknown> | null }>(
    await tx.execute(sql`
      with author as (${upsertAuthorSql(inbound.sourceId, inbound.author)}),
           item as (${insertItemSql(inbound, text, sql`(select id from author)`)})
      select (select row_to_json(author) from author) as author, (select row_to_json(item) from item) as item`),
  );
  if (!row?.author) throw new Error('upsert into authors returned no row');
  const author = rowOf(authors, row.author);
  if (row.item) return { item: rowOf(items, row.item), author, duplicate: false };
  return racedDuplicate(tx, inbound);
}

/** The item inserted, or undefined when (source, external id) is stored already. */
async function insertItem(
  tx: Database,
  inbound: InboundItem,
  text: string,
  authorId: number,
): Promise<Item | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(await tx.execute(insertItemSql(inbound, text, authorId)));
  return row ? rowOf(items, row) : undefined;
}

/**
 * Raw SQL with drizzle's column encoding (insertInto), not the query builder, which costs far more
 * CPU per item; `returning *` rows are decoded by `rowOf`.
 */
function insertItemSql(inbound: InboundItem, text: string, authorId: number | SQL): SQL {
  return sql`${insertInto(items, {
    sourceId: inbound.sourceId,
    externalId: inbound.externalId,
    authorId,
    text,
    url: inbound.url ?? null,
    conversationId: inbound.conversationId ?? null,
    parentExternalId: inbound.parentExternalId ?? null,
    language: inbound.language ?? null,
    raw: inbound.raw ?? null,
    tags: [...new Set(inbound.tags ?? [])],
    archived: inbound.archived ?? false,
    createdAt: inbound.createdAt,
  })}
  on conflict (source_id, external_id) do nothing
  returning *`;
}

/** The insert met the unique key: another delivery of the post got in first. */
async function racedDuplicate(tx: Database, inbound: InboundItem): Promise<StoredItem> {
  const raced = await findStoredItem(tx, inbound.sourceId, inbound.externalId);
  if (!raced) throw new Error(`item ${inbound.externalId} conflicted but cannot be read`);
  return { ...raced, duplicate: true };
}

/** The stored item of (source, external id) with its author as stored, if it has arrived before. */
async function findStoredItem(
  tx: Database,
  sourceId: number,
  externalId: string,
): Promise<{ item: Item; author: Author } | undefined> {
  const [row] = await tx
    .select({ item: items, author: authors })
    .from(items)
    .innerJoin(authors, eq(authors.id, items.authorId))
    .where(and(eq(items.sourceId, sourceId), eq(items.externalId, externalId)));
  return row;
}

/** Creates the author or refreshes what the source says of them; Earshot's own VIP flag is kept. */
async function upsertAuthor(tx: Database, sourceId: number, input: InboundItem['author']): Promise<Author> {
  const [row] = rowsOf<Record<string, unknown>>(await tx.execute(upsertAuthorSql(sourceId, input)));
  if (!row) throw new Error('upsert into authors returned no row');
  return rowOf(authors, row);
}

/** The author upsert as raw SQL with drizzle's column encoding (see `insertItemSql`). */
function upsertAuthorSql(sourceId: number, input: InboundItem['author']): SQL {
  return sql`${insertInto(authors, {
    sourceId,
    externalId: input.externalId,
    handle: input.handle ?? null,
    displayName: input.displayName ?? null,
    followerCount: input.followerCount ?? 0,
    verified: input.verified ?? false,
    language: input.language ?? null,
  })}
  on conflict (source_id, external_id) do update set
    handle = coalesce(excluded.handle, authors.handle),
    display_name = coalesce(excluded.display_name, authors.display_name),
    follower_count = ${input.followerCount == null ? sql`authors.follower_count` : sql`excluded.follower_count`},
    verified = ${input.verified == null ? sql`authors.verified` : sql`excluded.verified`},
    language = coalesce(excluded.language, authors.language),
    updated_at = now()
  returning *`;
}
