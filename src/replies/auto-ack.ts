import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import { authors, replies, sources } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { requirePermission } from '../tickets/permissions.js';
import { recordEvent } from '../tickets/timeline.js';
import type { Actor, Item, Source, Ticket } from '../tickets/types.js';
import { planReply, replyRulesFor } from './channel-rules.js';
import { MAX_TEMPLATE_BODY, renderTemplate, unknownVariables } from './templates.js';

/** Who sends an auto-acknowledgement, in `replies.sent_by` and on the timeline. */
export const AUTO_ACK_ACTOR: Actor = { kind: 'system', name: 'auto-ack' };

/**
 * `sources.settings.autoAck`. Off unless `enabled` is true. X posts are public, so an X source also
 * needs `publicPosts: true`: two explicit choices before Earshot answers anyone in public.
 */
export const autoAckSettingsSchema = z.object({
  enabled: z.boolean(),
  template: z.string().trim().min(1).max(MAX_TEMPLATE_BODY),
  publicPosts: z.boolean().default(false),
});
export type AutoAckSettings = z.infer<typeof autoAckSettingsSchema>;

/** A source's auto-acknowledgement settings, or null when none are stored or they do not parse. */
export function autoAckSettingsOf(source: Pick<Source, 'settings'>): AutoAckSettings | null {
  const parsed = autoAckSettingsSchema.safeParse(source.settings?.autoAck);
  return parsed.success ? parsed.data : null;
}

/** Whether a new ticket from this source is acknowledged, and with which template. Pure. */
export function autoAckTemplateFor(source: Pick<Source, 'kind' | 'settings'>): string | null {
  const settings = autoAckSettingsOf(source);
  if (!settings?.enabled) return null;
  // Everything Earshot reads from X is a public post.
  if (source.kind === 'x' && !settings.publicPosts) return null;
  return settings.template;
}

/**
 * Queues the source's auto-acknowledgement for a ticket that was just opened, in the same
 * transaction: a `replies` row the replies worker sends through the source's outbound path, and a
 * `replied` event by Earshot on the timeline. Once per ticket (its idempotency key is the ticket).
 * It neither sets the first-response time nor moves the ticket to waiting: the SLA clock is the
 * agents'. Returns the reply, or null when the source does not acknowledge.
 */
export async function queueAutoAck(tx: Database, ticket: Ticket, item: Item) {
  const [row] = await tx
    .select({ source: sources, author: authors })
    .from(sources)
    .innerJoin(authors, eq(authors.id, item.authorId))
    .where(eq(sources.id, ticket.sourceId));
  if (!row) return null;
  const template = autoAckTemplateFor(row.source);
  if (!template) return null;
  const handle = row.author.handle ? `@${row.author.handle}` : '';
  const text = renderTemplate(template, {
    author_name: row.author.displayName?.trim() || handle || 'there',
    handle,
    ticket_id: String(ticket.id),
    source: row.source.name,
  });
  const plan = planReply(text, replyRulesFor(row.source));
  if (plan.problem) return null;
  const [reply] = await tx
    .insert(replies)
    .values({
      ticketId: ticket.id,
      sourceId: ticket.sourceId,
      sentBy: 'system:auto-ack',
      text: plan.text,
      parts: plan.parts,
      idempotencyKey: `auto-ack:ticket:${ticket.id}`,
    })
    .onConflictDoNothing()
    .returning();
  if (!reply) return null;
  await recordEvent(tx, ticket, {
    actor: AUTO_ACK_ACTOR,
    type: 'replied',
    details: { text: plan.text, parts: plan.parts.length, replyId: reply.id, auto: true },
  });
  return reply;
}

/**
 * Turns a source's auto-acknowledgement on with a template, or off (leads and admins). An X source
 * is only turned on with `publicPosts: true`, the caller's explicit yes to answering in public.
 */
export async function setAutoAck(
  db: Database,
  actor: Actor,
  input: { source: string; enabled: boolean; template?: string; publicPosts?: boolean },
): Promise<Source> {
  requirePermission(actor, 'rules.manage');
  const [source] = await db.select().from(sources).where(sql`lower(${sources.name}) = ${input.source.toLowerCase()}`);
  if (!source) throw new AppError('not_found', `No source is named "${input.source.slice(0, 60)}".`);
  const current = autoAckSettingsOf(source);
  let next: AutoAckSettings;
  if (!input.enabled) {
    if (!current) return source;
    next = { ...current, enabled: false, publicPosts: false };
  } else {
    const template = input.template?.trim() ?? current?.template;
    if (!template)
      throw new AppError('invalid_input', 'Give the acknowledgement text.', { details: { field: 'template' } });
    if (template.length > MAX_TEMPLATE_BODY) {
      throw new AppError('invalid_input', `The acknowledgement is longer than ${MAX_TEMPLATE_BODY} characters.`);
    }
    const unknown = unknownVariables(template);
    if (unknown.length > 0) {
      throw new AppError(
        'invalid_input',
        `Unknown variable ${unknown.map((v) => `{{${v}}}`).join(', ')}: use {{author_name}}, {{handle}}, {{ticket_id}} or {{source}}.`,
      );
    }
    if (source.kind === 'x' && input.publicPosts !== true) {
      throw new AppError(
        'invalid_input',
        `"${source.name}" is an X source: an acknowledgement there is a public reply. Add \`public\` to say so: \`/earshot autoack set ${source.name} public <text>\`.`,
        { details: { field: 'publicPosts' } },
      );
    }
    const plan = planReply(
      renderTemplate(template, {
        author_name: 'Alexandra',
        handle: '@alexandra',
        ticket_id: '100000',
        source: source.name,
      }),
      replyRulesFor(source),
    );
    if (plan.problem === 'too_long') {
      throw new AppError('invalid_input', `The acknowledgement is too long for ${source.name}.`);
    }
    next = { enabled: true, template, publicPosts: input.publicPosts === true };
  }
  const [updated] = await db
    .update(sources)
    .set({
      settings: sql`${sources.settings} || ${JSON.stringify({ autoAck: next })}::jsonb`,
      updatedAt: sql`now()`,
    })
    .where(eq(sources.id, source.id))
    .returning();
  if (!updated) throw new AppError('not_found', `The source "${source.name}" is gone.`);
  return updated;
}
