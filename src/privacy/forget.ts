import { and, eq, inArray, or, sql } from 'drizzle-orm';
import { type CardRouting, type CrisisAlertRow, rewriteAlertCards } from '../crisis/alerts.js';
import type { CrisisAlertDetails, CrisisSample } from '../crisis/card.js';
import { type Database, intArray, rowsOf, textArray } from '../db/database.js';
import { authors, crisisAlerts, incidents, items, tickets } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { getSourceByName } from '../sources/sources.js';
import { requirePermission } from '../tickets/permissions.js';
import { allowEventRewrite, recordEvent } from '../tickets/timeline.js';
import type { Actor } from '../tickets/types.js';
import { anonymizeAuthors, anonymizeItems, anonymizeTickets, forgetCachedTriage } from './erase.js';

/** The timeline event a privacy erasure leaves on each ticket of the author: who asked, not what went. */
export const AUTHOR_ERASED_EVENT = 'author_data_erased';

export interface ForgetResult {
  /** False when no author matched (never seen, or already erased): nothing changed. */
  found: boolean;
  source: string;
  authors: number;
  items: number;
  tickets: number;
  replies: number;
  alerts: number;
  /** Their handles' entries on the VIP list (for this source and for every source). */
  vipEntries: number;
}

/**
 * Erases one author of one source for a privacy request, in one transaction: their posts (text,
 * raw payload, links), their tickets' free text (timeline details, replies, which are cancelled if
 * still pending, delivered Slack deliveries), their posts among crisis-alert samples (and the cards
 * showing them), the triage cache of their texts, their handles on the VIP list, and their identity
 * on the author row. Each of their tickets gets an `author_data_erased` event naming the admin and
 * nothing else, which also refreshes its Slack card. Counts, categories and timings stay, so reports
 * do not change.
 *
 * `author` is a handle (with or without `@`) or the source's id of the author. Running it again
 * finds nobody (the identity is gone) and changes nothing.
 */
export async function forgetAuthor(
  db: Database,
  actor: Actor,
  input: { source: string; author: string; routing: CardRouting; now?: Date },
): Promise<ForgetResult> {
  requirePermission(actor, 'privacy.forget');
  const now = input.now ?? new Date();
  const source = await getSourceByName(db, input.source.trim());
  if (!source) throw new AppError('not_found', `There is no source named "${input.source.trim().slice(0, 40)}".`);
  const who = input.author.trim().replace(/^@/, '');
  if (!who) throw new AppError('invalid_input', 'Say whose data to erase: a handle or the source’s author id.');
  const empty: ForgetResult = {
    found: false,
    source: source.name,
    authors: 0,
    items: 0,
    tickets: 0,
    replies: 0,
    alerts: 0,
    vipEntries: 0,
  };

  return db.transaction(async (tx) => {
    await allowEventRewrite(tx);
    const matched = await tx
      .select()
      .from(authors)
      .where(
        and(
          eq(authors.sourceId, source.id),
          sql`${authors.externalId} not like 'erased:%'`,
          or(sql`lower(${authors.handle}) = lower(${who})`, eq(authors.externalId, who)),
        ),
      )
      .for('update');
    if (matched.length === 0) return empty;
    const authorIds = matched.map((a) => a.id);
    const handles = [...new Set(matched.map((a) => a.handle).filter((h): h is string => Boolean(h)))];

    const own = await tx.select().from(tickets).where(inArray(tickets.authorId, authorIds)).for('update');
    const ticketIds = own.map((t) => t.id);
    const byAuthor = sql`${items.authorId} = any(${intArray(authorIds)})`;
    const texts = rowsOf<{ text: string }>(await tx.execute(sql`select text from items where ${byAuthor}`));
    await forgetCachedTriage(
      tx,
      texts.map((r) => r.text),
    );
    const erasedItems = await anonymizeItems(tx, byAuthor);
    const erased = await anonymizeTickets(tx, ticketIds, now);
    for (const ticket of own) {
      const [bumped] = await tx
        .update(tickets)
        .set({ version: sql`${tickets.version} + 1`, updatedAt: now })
        .where(eq(tickets.id, ticket.id))
        .returning();
      await recordEvent(tx, bumped!, { actor, type: AUTHOR_ERASED_EVENT, details: {} });
    }
    const alerts = await eraseAlertSamples(tx, { sourceId: source.id, ticketIds, handles }, input.routing);
    // The VIP list names them by handle, with a note about them: their entries go too.
    const vipEntries = rowsOf<{ id: number }>(
      await tx.execute(sql`
        delete from vip_authors where handle = any(${textArray(handles.map((h) => h.toLowerCase()))})
          and (source_id is null or source_id = ${source.id}) returning id`),
    ).length;
    const erasedAuthors = await anonymizeAuthors(tx, authorIds, now);
    return {
      found: true,
      source: source.name,
      authors: erasedAuthors,
      items: erasedItems.items,
      tickets: erased.tickets,
      replies: erased.replies,
      alerts,
      vipEntries,
    };
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Takes the author's posts out of crisis alerts (matched by their tickets, or by handle for posts
 * that had none), renames an influencer alert raised for them, and brings every copy of those cards
 * in line (see rewriteAlertCards).
 */
async function eraseAlertSamples(
  tx: Database,
  who: { sourceId: number; ticketIds: number[]; handles: string[] },
  routing: CardRouting,
): Promise<number> {
  const atHandles = who.handles.map((h) => `@${h}`.toLowerCase());
  const influencerKeys = atHandles.map((h) => `influencer:${who.sourceId}:${h}`);
  const handleArray = textArray(atHandles);
  const candidates = await tx
    .select()
    .from(crisisAlerts)
    .where(
      or(
        sql`exists (
          select 1 from jsonb_array_elements(coalesce(${crisisAlerts.details}->'samples', '[]'::jsonb)) s
          where (s->>'ticketId' ~ '^[0-9]+$' and (s->>'ticketId')::int = any(${intArray(who.ticketIds)}))
             or lower(s->>'author') = any(${handleArray}))`,
        sql`lower(${crisisAlerts.groupKey}) = any(${textArray(influencerKeys)})`,
      ),
    )
    .for('update');
  const mentions = atHandles.length ? new RegExp(atHandles.map(escapeRegExp).join('|'), 'gi') : null;
  const scrub = (text: string) => (mentions ? text.replace(mentions, 'an erased author') : text);
  for (const alert of candidates) {
    const details = alert.details as unknown as CrisisAlertDetails;
    const theirs = (sample: CrisisSample) =>
      (sample.ticketId !== null && who.ticketIds.includes(sample.ticketId)) ||
      (sample.author !== null && atHandles.includes(sample.author.toLowerCase()));
    const next: CrisisAlertDetails = {
      ...details,
      title: scrub(details.title),
      samples: (details.samples ?? []).filter((sample) => !theirs(sample)),
    };
    const [updated] = await tx
      .update(crisisAlerts)
      .set({
        details: next as unknown as Record<string, unknown>,
        groupKey: influencerKeys.includes(alert.groupKey.toLowerCase())
          ? `influencer:${who.sourceId}:erased-${alert.id}`
          : alert.groupKey,
      })
      .where(eq(crisisAlerts.id, alert.id))
      .returning();
    if (next.title !== details.title) {
      const linked = await tx.select().from(incidents).where(eq(incidents.alertId, alert.id));
      for (const incident of linked) {
        await tx
          .update(incidents)
          .set({ title: scrub(incident.title) })
          .where(eq(incidents.id, incident.id));
      }
    }
    await rewriteAlertCards(tx, updated as CrisisAlertRow, routing);
  }
  return candidates.length;
}
