import { createHash } from 'node:crypto';
import { and, eq, type SQL, sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';
import { jsonParam, rowOf } from '../db/rows.js';
import { authors, items } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import type { Author, Item, Source } from '../tickets/types.js';

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

/** A stored item, with what triage reads of the author's past (their tickets so far, for a new item). */
export type ReceivedItem = StoredItem & { previousContacts: number };

/** One item to store; with `confirm`, only if that source row is unchanged since the caller read it. */
export interface StoreRequest {
  inbound: InboundItem;
  confirm?: Pick<Source, 'id' | 'secret' | 'updatedAt'>;
}

/** Per request: what was stored or found, or `refused` when its `confirm` source row had changed (nothing written). */
export type StoreOutcome = ReceivedItem | { refused: true };

/**
 * Stores an inbound item exactly once per (source, external id), with its author, and returns it.
 * This is the durable receipt: once it returns, the item survives a crash and the triage queue will
 * get to it. A repeat (stream overlap, webhook resend, backfill) returns the stored row and its
 * author as stored, never touching `authors`: a post delivered again after its author was erased
 * (`/earshot forget`, retention) must not bring their handle and name back. Throws a coded error for
 * bad input before anything is sent.
 */
export async function storeItem(
  db: Database,
  inbound: InboundItem,
  limits: { maxTextLength: number },
): Promise<ReceivedItem> {
  const [outcome] = await storeItems(db, [{ inbound }], limits);
  if (!outcome || 'refused' in outcome) throw new Error('storing the item was refused');
  return outcome;
}

/**
 * `storeItem` for many items in one statement, so receipts arriving together share one commit. The
 * rows go as one JSON parameter (the statement's text never changes with their number), and every
 * lookup is a subquery by index per row, whatever the planner guesses of the JSON's length: each is
 * looked up, and only the new ones whose `confirm` source is unchanged upsert their author (once per
 * author, each fact from the latest copy that states it) and insert the item (once per post: a later
 * copy in the same call is answered as a repeat). Every request is checked by `validateInbound`
 * before anything is sent, and its normalized text is what is stored. Answers in the requests' order.
 */
export async function storeItems(
  db: Database,
  requests: readonly StoreRequest[],
  limits: { maxTextLength: number },
): Promise<StoreOutcome[]> {
  const rows = requests.map(({ inbound, confirm }, idx) => {
    const author = inbound.author;
    return {
      idx,
      source_id: inbound.sourceId,
      external_id: inbound.externalId,
      confirm: confirm !== undefined,
      // A digest, not the secret: statement parameters can reach the server's log (a slow-query log).
      secret_sha256: confirm?.secret ? createHash('sha256').update(confirm.secret).digest('hex') : null,
      source_updated_at: confirm?.updatedAt ?? null,
      author_external_id: author.externalId,
      handle: author.handle ?? null,
      display_name: author.displayName ?? null,
      follower_count: author.followerCount ?? null,
      verified: author.verified ?? null,
      author_language: author.language ?? null,
      text: validateInbound(inbound, limits),
      url: inbound.url ?? null,
      conversation_id: inbound.conversationId ?? null,
      parent_external_id: inbound.parentExternalId ?? null,
      language: inbound.language ?? null,
      raw: inbound.raw ?? null,
      tags: [...new Set(inbound.tags ?? [])],
      archived: inbound.archived ?? false,
      created_at: inbound.createdAt,
    };
  });
  const result = rowsOf<{
    idx: number;
    allowed: boolean;
    existing_item: Record<string, unknown> | null;
    existing_author: Record<string, unknown> | null;
    author: Record<string, unknown> | null;
    item: Record<string, unknown> | null;
    previous_contacts: number | null;
  }>(await db.execute(storeItemsSql(jsonParam(rows))));
  const byIdx = new Map(result.map((r) => [r.idx, r]));
  const storedPosts = new Set<string>();
  const outcomes: StoreOutcome[] = [];
  for (const [idx, { inbound }] of requests.entries()) {
    const row = byIdx.get(idx);
    if (!row?.allowed) {
      outcomes.push({ refused: true });
      continue;
    }
    // Rows come back as JSON, decoded column by column as drizzle decodes them (rowOf).
    if (row.existing_item && row.existing_author) {
      const item = rowOf(items, row.existing_item);
      outcomes.push({ item, author: rowOf(authors, row.existing_author), duplicate: true, previousContacts: 0 });
      continue;
    }
    if (row.item && row.author) {
      // The first copy of a post in the call stored it; any later one is a repeat of that.
      const key = `${inbound.sourceId}:${inbound.externalId}`;
      const duplicate = storedPosts.has(key);
      storedPosts.add(key);
      outcomes.push({
        item: rowOf(items, row.item),
        author: rowOf(authors, row.author),
        duplicate,
        previousContacts: duplicate ? 0 : Number(row.previous_contacts ?? 0),
      });
      continue;
    }
    // The insert met the unique key: another delivery of the post got in first.
    outcomes.push({ ...(await racedDuplicate(db, inbound)), previousContacts: 0 });
  }
  return outcomes;
}

/**
 * The statement behind `storeItems`. An author given by several new items of the call gets, for each
 * fact, the latest copy that states it, as the calls one after the other would leave it; a follower
 * count or verified flag no copy states stays as stored (else 0 and false). An author whose handle is on
 * the VIP list (for their source or for every source) is flagged VIP.
 */
function storeItemsSql(rows: SQL): SQL {
  return sql`
    with input as (
      select * from jsonb_to_recordset(${rows}) as r(
        idx int, source_id int, external_id text, confirm boolean, secret_sha256 text, source_updated_at timestamptz,
        author_external_id text, handle text, display_name text, follower_count int, verified boolean,
        author_language text, text text, url text, conversation_id text, parent_external_id text, language text,
        raw jsonb, tags text[], archived boolean, created_at timestamptz)
    ),
    checked as (
      select r.*, (not r.confirm or exists (
        select 1 from sources s where s.id = r.source_id and s.enabled
          and encode(sha256(convert_to(s.secret, 'UTF8')), 'hex') is not distinct from r.secret_sha256
          and date_trunc('milliseconds', s.updated_at) = r.source_updated_at)) as allowed
      from input r
    ),
    existing as (
      select idx, found -> 'item' as item, found -> 'author' as author from (
        select r.idx, (select json_build_object('item', row_to_json(i), 'author', row_to_json(a))
                       from items i join authors a on a.id = i.author_id
                       where i.source_id = r.source_id and i.external_id = r.external_id) as found
        from input r) as looked
      where found is not null
    ),
    fresh as (select * from checked c where c.allowed and not exists (select 1 from existing e where e.idx = c.idx)),
    author as (
      insert into authors (source_id, external_id, handle, display_name, follower_count, verified, language, vip)
      select g.*, exists (select 1 from vip_authors v
                          where v.handle = lower(g.handle) and (v.source_id is null or v.source_id = g.source_id))
      from (
        select f.source_id, f.author_external_id,
               (array_agg(f.handle order by f.idx desc) filter (where f.handle is not null))[1] as handle,
               (array_agg(f.display_name order by f.idx desc) filter (where f.display_name is not null))[1],
               coalesce((array_agg(f.follower_count order by f.idx desc) filter (where f.follower_count is not null))[1],
                        (select a.follower_count from authors a
                         where a.source_id = f.source_id and a.external_id = f.author_external_id), 0),
               coalesce((array_agg(f.verified order by f.idx desc) filter (where f.verified is not null))[1],
                        (select a.verified from authors a
                         where a.source_id = f.source_id and a.external_id = f.author_external_id), false),
               (array_agg(f.author_language order by f.idx desc) filter (where f.author_language is not null))[1]
        from fresh f
        group by f.source_id, f.author_external_id
      ) as g
      -- Key order, as the items below: two statements in flight at once lock rows in the same order.
      order by g.source_id, g.author_external_id
      on conflict (source_id, external_id) do update set
        handle = coalesce(excluded.handle, authors.handle),
        display_name = coalesce(excluded.display_name, authors.display_name),
        follower_count = excluded.follower_count,
        verified = excluded.verified,
        language = coalesce(excluded.language, authors.language),
        -- A listed handle makes its author a VIP; only 'vip remove' (or an erasure) unmakes one.
        vip = authors.vip or excluded.vip,
        updated_at = now()
      returning *
    ),
    item as (
      insert into items (source_id, external_id, author_id, text, url, conversation_id, parent_external_id, language,
                         raw, tags, archived, created_at)
      select distinct on (f.source_id, f.external_id) f.source_id, f.external_id, au.id, f.text, f.url,
             f.conversation_id, f.parent_external_id, f.language, f.raw, f.tags, f.archived, f.created_at
      from fresh f join author au on au.source_id = f.source_id and au.external_id = f.author_external_id
      order by f.source_id, f.external_id, f.idx
      on conflict (source_id, external_id) do nothing
      returning *
    )
    select c.idx, c.allowed, e.item as existing_item, e.author as existing_author,
           row_to_json(au) as author, row_to_json(it) as item,
           (select count(*)::int from tickets t where t.author_id = au.id) as previous_contacts
    from checked c
    left join existing e on e.idx = c.idx
    left join author au on au.source_id = c.source_id and au.external_id = c.author_external_id
    left join item it on it.source_id = c.source_id and it.external_id = c.external_id
    order by c.idx`;
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
