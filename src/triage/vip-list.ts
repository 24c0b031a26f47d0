import { sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';
import { AppError } from '../errors.js';
import { getSourceByName } from '../sources/sources.js';
import { requirePermission } from '../tickets/permissions.js';
import { type Actor, actorId } from '../tickets/types.js';

/** One entry of the VIP list, with what `/earshot vip list` shows beside it. */
export interface VipEntry {
  id: number;
  handle: string;
  /** Null: the handle is a VIP on every source. */
  source: string | null;
  note: string | null;
  createdBy: string;
  createdAt: Date;
  /** Authors Earshot has stored under this handle (on the entry's source, or on any). */
  knownAuthors: number;
}

export interface VipChange {
  entry: VipEntry;
  /** `add`: the entry is new (false: it was there, and only a note given may have changed). */
  created: boolean;
  /** False when nothing changed (`add` of an entry that was there, with no new note). */
  changed: boolean;
  /** Known authors whose flag this change turned on (`add`) or off (`remove`). */
  authors: number;
}

export const MAX_VIP_NOTE = 200;
const MAX_HANDLE = 100;
// X handles, and what a webhook's author handle may hold (an e-mail address, a name with a dot).
const HANDLE = new RegExp(`^[\\p{L}\\p{N}_.+\\-@']{1,${MAX_HANDLE}}$`, 'u');

/**
 * The key a handle is listed under: without its leading `@`, lower case. Throws `invalid_input`
 * for anything that is not one word of a handle's characters.
 */
export function normalizeVipHandle(raw: string): string {
  const handle = raw.trim().replace(/^@/, '').toLowerCase();
  if (!HANDLE.test(handle)) {
    throw new AppError(
      'invalid_input',
      `A handle is one word of letters, digits and _ . + - @ (at most ${MAX_HANDLE} characters), as \`@acme_support\`.`,
      { details: { field: 'handle' } },
    );
  }
  return handle;
}

/**
 * Lists a handle as a VIP, on one source or on all (`source` omitted), and flags the authors
 * Earshot already knows under it. Their next posts score the priority's VIP points; tickets
 * already open keep the priority they were given. Adding an entry that exists changes nothing but
 * the note, when one is given. Leads and admins.
 */
export async function addVip(
  db: Database,
  actor: Actor,
  input: { handle: string; source?: string | null; note?: string | null },
): Promise<VipChange> {
  requirePermission(actor, 'rules.manage');
  const handle = normalizeVipHandle(input.handle);
  const note = input.note?.trim() || null;
  if (note && note.length > MAX_VIP_NOTE) {
    throw new AppError(
      'invalid_input',
      `A VIP note is at most ${MAX_VIP_NOTE} characters (this one has ${note.length}).`,
      {
        details: { field: 'note' },
      },
    );
  }
  const sourceId = await sourceIdOf(db, input.source);
  return db.transaction(async (tx) => {
    const [row] = rowsOf<{ id: number; inserted: boolean; note_changed: boolean }>(
      await tx.execute(sql`
        -- The statement's snapshot: the note before this insert or update.
        with old as (select note from vip_authors where handle = ${handle} and source_id is not distinct from ${sourceId})
        insert into vip_authors (handle, source_id, note, created_by)
        values (${handle}, ${sourceId}, ${note}, ${actorId(actor)})
        on conflict (handle, source_id) do update set note = coalesce(excluded.note, vip_authors.note)
        returning id, (xmax = 0) as inserted, (select note from old) is distinct from vip_authors.note as note_changed`),
    );
    const marked = rowsOf<{ id: number }>(
      await tx.execute(sql`
        update authors set vip = true, updated_at = now()
        where lower(handle) = ${handle} and (${sourceId}::int is null or source_id = ${sourceId}::int) and not vip
        returning id`),
    );
    return {
      entry: await entryById(tx, row!.id),
      created: row!.inserted,
      changed: row!.inserted || row!.note_changed,
      authors: marked.length,
    };
  });
}

/**
 * Takes a handle off the VIP list (the entry for that source, or the every-source entry when
 * `source` is omitted) and clears the flag of its known authors that no other entry still lists.
 */
export async function removeVip(
  db: Database,
  actor: Actor,
  input: { handle: string; source?: string | null },
): Promise<VipChange> {
  requirePermission(actor, 'rules.manage');
  const handle = normalizeVipHandle(input.handle);
  const sourceId = await sourceIdOf(db, input.source);
  return db.transaction(async (tx) => {
    const existing = await tx.execute(
      sql`select id from vip_authors where handle = ${handle} and source_id is not distinct from ${sourceId} for update`,
    );
    const [found] = rowsOf<{ id: number }>(existing);
    if (!found) {
      const where = input.source ? ` on ${input.source.trim()}` : ' on every source';
      throw new AppError(
        'not_found',
        `@${handle} is not on the VIP list${where}. \`/earshot vip list\` shows the list.`,
      );
    }
    const entry = await entryById(tx, found.id);
    await tx.execute(sql`delete from vip_authors where id = ${found.id}`);
    const cleared = rowsOf<{ id: number }>(
      await tx.execute(sql`
        update authors a set vip = false, updated_at = now()
        where lower(a.handle) = ${handle} and (${sourceId}::int is null or a.source_id = ${sourceId}::int) and a.vip
          and not exists (select 1 from vip_authors v
                          where v.handle = lower(a.handle) and (v.source_id is null or v.source_id = a.source_id))
        returning a.id`),
    );
    return { entry, created: false, changed: true, authors: cleared.length };
  });
}

/** What triage would know of a post by a handle: for `route test author=@handle`. */
export interface HandleFacts {
  handle: string;
  followerCount: number;
  verified: boolean;
  vip: boolean;
  /** False: no author of that handle is stored; the facts are the VIP list's alone. */
  known: boolean;
}

/**
 * The facts of the most followed known author of `handle` (on the source, or on any when
 * `sourceId` is null); for a handle never seen, no followers, and VIP if the list names it.
 */
export async function handleFacts(db: Database, rawHandle: string, sourceId: number | null): Promise<HandleFacts> {
  const handle = normalizeVipHandle(rawHandle);
  const [known] = rowsOf<{ handle: string; follower_count: number; verified: boolean; vip: boolean }>(
    await db.execute(sql`
      select handle, follower_count, verified, vip from authors
      where lower(handle) = ${handle} and (${sourceId}::int is null or source_id = ${sourceId}::int)
      order by follower_count desc, id limit 1`),
  );
  if (known) {
    return {
      handle: known.handle,
      followerCount: Number(known.follower_count),
      verified: Boolean(known.verified),
      vip: Boolean(known.vip),
      known: true,
    };
  }
  const [listed] = rowsOf<{ id: number }>(
    await db.execute(sql`
      select id from vip_authors
      where handle = ${handle} and (${sourceId}::int is null or source_id is null or source_id = ${sourceId}::int)
      limit 1`),
  );
  return { handle, followerCount: 0, verified: false, vip: Boolean(listed), known: false };
}

/** The whole list, handles in alphabetical order (every-source entry before per-source ones). */
export async function listVips(db: Database): Promise<VipEntry[]> {
  return rowsOf<EntryRow>(await db.execute(sql`${ENTRY_SELECT} order by v.handle, s.name nulls first`)).map(toEntry);
}

interface EntryRow {
  id: number;
  handle: string;
  source: string | null;
  note: string | null;
  created_by: string;
  created_at: string | Date;
  known_authors: number;
}

const ENTRY_SELECT = sql`
  select v.id, v.handle, s.name as source, v.note, v.created_by, v.created_at,
         (select count(*)::int from authors a
          where lower(a.handle) = v.handle and (v.source_id is null or a.source_id = v.source_id)) as known_authors
  from vip_authors v left join sources s on s.id = v.source_id`;

async function entryById(db: Database, id: number): Promise<VipEntry> {
  const [row] = rowsOf<EntryRow>(await db.execute(sql`${ENTRY_SELECT} where v.id = ${id}`));
  if (!row) throw new Error(`VIP entry ${id} vanished inside its transaction`);
  return toEntry(row);
}

function toEntry(row: EntryRow): VipEntry {
  return {
    id: Number(row.id),
    handle: row.handle,
    source: row.source,
    note: row.note,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    knownAuthors: Number(row.known_authors),
  };
}

async function sourceIdOf(db: Database, name: string | null | undefined): Promise<number | null> {
  const wanted = name?.trim();
  if (!wanted) return null;
  const source = await getSourceByName(db, wanted);
  if (!source) {
    throw new AppError(
      'not_found',
      `There is no source named "${wanted.slice(0, 40)}". \`/earshot source list\` shows them; leave the source out to list the handle on every source.`,
      { details: { field: 'source' } },
    );
  }
  return source.id;
}
