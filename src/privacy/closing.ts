import { and, asc, eq, gt, gte, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { authors, replies, sources, ticketEvents, tickets } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { planReply, replyRulesFor } from '../replies/channel-rules.js';
import { MAX_TEMPLATE_BODY, renderTemplate, TEMPLATE_VARIABLES, unknownVariables } from '../replies/templates.js';
import { requirePermission } from '../tickets/permissions.js';
import { recordEvent } from '../tickets/timeline.js';
import type { Actor, Author, Source, Ticket } from '../tickets/types.js';

const CLOSING_ACTOR: Actor = { kind: 'system', name: 'closing' };

/** `sources.settings.closingMessage`: what a source sends the customer when their ticket is resolved. */
export interface ClosingSettings {
  /** Must be true for public channels (X); webhook sources send when a template is set unless false. */
  enabled?: boolean;
  /** With {{author_name}}, {{handle}}, {{ticket_id}}, {{source}}. */
  template?: string;
  /** When `closing set` switched it on (ISO): tickets resolved before then are not written to. */
  enabledAt?: string;
}

/**
 * The closing template of a source, or null when it sends none. Off by default for public posts (X):
 * a reply there is visible to everyone, so it must be switched on explicitly.
 */
export function closingTemplate(source: Pick<Source, 'kind' | 'settings'>): string | null {
  const settings = (source.settings?.closingMessage ?? null) as ClosingSettings | null;
  const template = typeof settings?.template === 'string' ? settings.template.trim() : '';
  if (!template) return null;
  if (source.kind === 'x') return settings?.enabled === true ? template : null;
  return settings?.enabled === false ? null : template;
}

/**
 * Queues the closing message of a resolved ticket as a `replies` row (the reply worker sends it), with
 * a timeline event, in the caller's transaction. Keyed on the resolve event, so it is queued once.
 */
export async function queueClosingMessage(
  tx: Database,
  input: { ticket: Ticket; source: Source; author: Author; resolveEventId: number },
): Promise<boolean> {
  const template = closingTemplate(input.source);
  if (!template) return false;
  const text = renderTemplate(template, {
    author_name: input.author.displayName ?? input.author.handle ?? 'there',
    handle: input.author.handle ? `@${input.author.handle}` : '',
    ticket_id: String(input.ticket.id),
    source: input.source.name,
  });
  const rules = replyRulesFor(input.source);
  const plan = planReply(text, rules);
  if (plan.problem) return false;
  const inserted = await tx
    .insert(replies)
    .values({
      ticketId: input.ticket.id,
      sourceId: input.source.id,
      sentBy: 'system:closing',
      text: plan.text,
      parts: plan.parts,
      idempotencyKey: `closing:${input.ticket.id}:${input.resolveEventId}`,
    })
    .onConflictDoNothing()
    .returning({ id: replies.id });
  if (inserted.length === 0) return false;
  await recordEvent(tx, input.ticket, {
    actor: CLOSING_ACTOR,
    type: 'closing_message',
    // The channel it goes out on, for the card's thread line.
    details: { replyId: inserted[0]!.id, via: rules.label, source: input.source.name },
  });
  return true;
}

/** Sources that send a closing message, in SQL: the same rule as closingTemplate. */
const SENDS_CLOSING = sql`(
  coalesce(btrim(${sources.settings}->'closingMessage'->>'template'), '') <> ''
  and case when ${sources.kind} = 'x'
           then ${sources.settings}->'closingMessage'->>'enabled' = 'true'
           else coalesce(${sources.settings}->'closingMessage'->>'enabled', 'true') <> 'false' end)`;

/**
 * The closing-message job: every ticket resolved since `since` whose source sends a closing message
 * gets it queued once (tickets already reopened, spam, and erased authors are skipped; a ticket closed
 * after it was resolved still gets it). Read a page at a time in event order, so a ticket whose
 * message cannot be queued never holds back the ones after it.
 */
export async function queueClosingMessages(db: Database, since: Date, pageSize = 200): Promise<number> {
  let queued = 0;
  for (let after = 0; ; ) {
    const resolved = await db
      .select({ eventId: ticketEvents.id, ticket: tickets, source: sources, author: authors })
      .from(ticketEvents)
      .innerJoin(tickets, eq(tickets.id, ticketEvents.ticketId))
      .innerJoin(sources, eq(sources.id, tickets.sourceId))
      .innerJoin(authors, eq(authors.id, tickets.authorId))
      .where(
        and(
          eq(ticketEvents.type, 'resolved'),
          gte(ticketEvents.createdAt, since),
          gt(ticketEvents.id, after),
          inArray(tickets.status, ['resolved', 'closed']),
          eq(tickets.spam, 0),
          // An author whose data was erased is not written to again.
          sql`not (${tickets.triage} ? 'anonymizedAt')`,
          SENDS_CLOSING,
          sql`${ticketEvents.createdAt} >= coalesce((${sources.settings}->'closingMessage'->>'enabledAt')::timestamptz, '-infinity')`,
          sql`not exists (select 1 from replies r where r.idempotency_key = 'closing:' || ${tickets.id} || ':' || ${ticketEvents.id})`,
          // Only the ticket's last resolve counts: one undone by a reopen (and maybe resolved again) sends nothing.
          sql`not exists (select 1 from ticket_events later where later.ticket_id = ${ticketEvents.ticketId}
                          and later.type in ('resolved', 'reopened') and later.id > ${ticketEvents.id})`,
        ),
      )
      .orderBy(asc(ticketEvents.id))
      .limit(pageSize);
    for (const row of resolved) {
      const done = await db.transaction(async (tx) => {
        // The ticket as it is now: reopened in the meantime means no closing message.
        const [current] = await tx.select().from(tickets).where(eq(tickets.id, row.ticket.id)).for('update');
        if (!current || (current.status !== 'resolved' && current.status !== 'closed')) return false;
        return queueClosingMessage(tx, {
          ticket: current,
          source: row.source,
          author: row.author,
          resolveEventId: row.eventId,
        });
      });
      if (done) queued += 1;
    }
    if (resolved.length < pageSize) return queued;
    after = resolved[resolved.length - 1]!.eventId;
  }
}

/** The closing message a source sends, as `/earshot closing show` tells it. */
export function describeClosing(source: Pick<Source, 'kind' | 'settings'>): {
  template: string | null;
  sends: boolean;
} {
  const settings = (source.settings?.closingMessage ?? null) as ClosingSettings | null;
  const template = typeof settings?.template === 'string' && settings.template.trim() ? settings.template.trim() : null;
  return { template, sends: closingTemplate(source) !== null };
}

const SAMPLE_VALUES = { author_name: 'Dana Example', handle: '@dana_example', ticket_id: '123456', source: 'source' };

/**
 * Sets (and switches on) or switches off the closing message of a source. A template must use only
 * the known variables and fit the source's channel once filled in; `null` switches it off and keeps
 * the template for later. Leads and admins only.
 */
export async function setClosingMessage(
  db: Database,
  actor: Actor,
  input: { sourceId: number; template: string | null },
): Promise<Source> {
  requirePermission(actor, 'template.manage');
  const [source] = await db.select().from(sources).where(eq(sources.id, input.sourceId));
  if (!source) throw new AppError('not_found', `Source ${input.sourceId} does not exist.`);
  const current = (source.settings?.closingMessage ?? {}) as ClosingSettings;
  let next: ClosingSettings;
  if (input.template === null) next = { ...current, enabled: false };
  else {
    const template = input.template.trim();
    if (!template) throw new AppError('invalid_input', 'The closing message is empty.');
    if (template.length > MAX_TEMPLATE_BODY) {
      throw new AppError('invalid_input', `A closing message is at most ${MAX_TEMPLATE_BODY} characters.`);
    }
    const unknown = unknownVariables(template);
    if (unknown.length > 0) {
      throw new AppError(
        'invalid_input',
        `Unknown variable ${unknown.map((v) => `{{${v}}}`).join(', ')}; use ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(' ')}.`,
      );
    }
    const plan = planReply(renderTemplate(template, { ...SAMPLE_VALUES, source: source.name }), replyRulesFor(source));
    if (plan.problem) {
      throw new AppError('invalid_input', `That message is too long for ${source.name} once filled in.`);
    }
    next = { enabled: true, template, enabledAt: new Date().toISOString() };
  }
  const [updated] = await db
    .update(sources)
    .set({
      settings: sql`${sources.settings} || ${JSON.stringify({ closingMessage: next })}::jsonb`,
      updatedAt: new Date(),
    })
    .where(eq(sources.id, source.id))
    .returning();
  return updated!;
}
