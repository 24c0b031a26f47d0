import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { replies, tags as tagCatalog, ticketEvents, tickets } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { computeDueTimes } from '../sla/policy.js';
import { nextStatus, type TicketAction } from './lifecycle.js';
import { type Permission, requirePermission } from './permissions.js';
import { slaClockPatch } from './sla-clock.js';
import { normalizeTags } from './tags.js';
import { recordEvent } from './timeline.js';
import type { Actor, Category, Priority, Sentiment, Ticket, TicketEvent } from './types.js';

type TicketPatch = Partial<Omit<Ticket, 'id' | 'version' | 'createdAt' | 'updatedAt'>>;

/** The outcome of an action. `event` is null when the action changed nothing (a repeated click). */
export interface ActionResult {
  ticket: Ticket;
  event: TicketEvent | null;
}

interface Plan {
  patch: TicketPatch;
  type: string;
  details?: Record<string, unknown>;
}

interface ChangeSpec<Extra> {
  ticketId: number;
  actor: Actor;
  action: TicketAction;
  permission: Permission;
  now?: Date;
  /** Decides the change from the locked ticket; null means "already so", which is not an error. */
  plan: (ticket: Ticket, now: Date) => Plan | null;
  /** Further writes in the same transaction, after the ticket row is updated. */
  after?: (tx: Database, ticket: Ticket, event: TicketEvent) => Promise<Extra>;
}

/**
 * The one path every ticket action takes: check the role, lock the row, decide, check the
 * transition, update, append the event and queue the card, all in one transaction. A refused
 * action throws a coded AppError and changes nothing. The row lock makes concurrent actions on one
 * ticket take turns, so of fifty simultaneous claims exactly one wins.
 */
async function changeTicket<Extra = undefined>(
  db: Database,
  spec: ChangeSpec<Extra>,
): Promise<ActionResult & { extra: Extra | undefined }> {
  requirePermission(spec.actor, spec.permission);
  const now = spec.now ?? new Date();
  return db.transaction(async (tx) => {
    const [ticket] = await tx.select().from(tickets).where(eq(tickets.id, spec.ticketId)).for('update');
    if (!ticket)
      throw new AppError('not_found', `Ticket #${spec.ticketId} does not exist.`, {
        details: { ticketId: spec.ticketId },
      });
    const plan = spec.plan(ticket, now);
    if (!plan) return { ticket, event: null, extra: undefined };
    const status = nextStatus(spec.action, ticket);
    const patch: TicketPatch = { ...plan.patch, ...slaClockPatch(ticket, ticket.status, status, now), status };
    const [updated] = await tx
      .update(tickets)
      .set({ ...patch, version: sql`${tickets.version} + 1`, updatedAt: now })
      .where(eq(tickets.id, ticket.id))
      .returning();
    if (!updated) throw new Error(`ticket ${ticket.id} vanished while locked`);
    const changedKeys = Object.keys(plan.patch).concat(status !== ticket.status ? ['status'] : []) as (keyof Ticket)[];
    const event = await recordEvent(tx, updated, {
      actor: spec.actor,
      type: plan.type,
      before: pick(ticket, changedKeys),
      after: pick(updated, changedKeys),
      details: plan.details ?? {},
    });
    const extra = spec.after ? await spec.after(tx, updated, event) : undefined;
    return { ticket: updated, event, extra };
  });
}

function pick(ticket: Ticket, keys: readonly (keyof Ticket)[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, ticket[key]]));
}

function userIdOf(actor: Actor): string {
  if (actor.kind !== 'user') throw new AppError('invalid_input', 'Only a person can hold a ticket.');
  return actor.userId;
}

/** Takes an unclaimed ticket. Claiming your own ticket again is a no-op; someone else's is refused. */
export async function claimTicket(db: Database, actor: Actor, input: { ticketId: number; now?: Date }) {
  const userId = userIdOf(actor);
  return changeTicket(db, {
    ...input,
    actor,
    action: 'claim',
    permission: 'ticket.claim',
    plan: (ticket) => {
      if (ticket.assignee === userId) return null;
      if (ticket.assignee) {
        throw new AppError('already_claimed', `Ticket #${ticket.id} is already claimed by <@${ticket.assignee}>.`, {
          details: { ticketId: ticket.id, assignee: ticket.assignee },
        });
      }
      return { patch: { assignee: userId }, type: 'claimed' };
    },
  });
}

/** Puts a ticket back in the queue. Leads may unclaim anyone's ticket; others only their own. */
export async function unclaimTicket(db: Database, actor: Actor, input: { ticketId: number; now?: Date }) {
  return changeTicket(db, {
    ...input,
    actor,
    action: 'unclaim',
    permission: 'ticket.claim',
    plan: (ticket) => {
      if (!ticket.assignee) {
        throw new AppError('not_claimed', `Ticket #${ticket.id} is not claimed by anyone.`, {
          details: { ticketId: ticket.id },
        });
      }
      if (actor.kind === 'user' && ticket.assignee !== actor.userId) requirePermission(actor, 'ticket.unclaim_others');
      return { patch: { assignee: null }, type: 'unclaimed', details: { previousAssignee: ticket.assignee } };
    },
  });
}

/** Gives a ticket to someone. Assigning to yourself is a claim; assigning to others needs a lead. */
export async function assignTicket(
  db: Database,
  actor: Actor,
  input: { ticketId: number; assignee: string; now?: Date },
) {
  const self = actor.kind === 'user' && actor.userId === input.assignee;
  if (!/^[UW][A-Z0-9]+$/.test(input.assignee)) {
    throw new AppError('invalid_input', 'Pick a Slack user to assign the ticket to.', {
      details: { field: 'assignee' },
    });
  }
  return changeTicket(db, {
    ...input,
    actor,
    action: 'assign',
    permission: self ? 'ticket.claim' : 'ticket.assign',
    plan: (ticket) => {
      if (ticket.assignee === input.assignee) return null;
      return {
        patch: { assignee: input.assignee },
        type: 'assigned',
        details: { from: ticket.assignee, to: input.assignee },
      };
    },
  });
}

/** Adds tags (creating unknown ones in the catalogue). Tags already on the ticket change nothing. */
export async function tagTicket(
  db: Database,
  actor: Actor,
  input: { ticketId: number; tags: readonly string[]; now?: Date },
) {
  const wanted = normalizeTags(input.tags);
  return changeTicket(db, {
    ...input,
    actor,
    action: 'tag',
    permission: 'ticket.tag',
    plan: (ticket) => {
      const added = wanted.filter((tag) => !ticket.tags.includes(tag));
      if (added.length === 0) return null;
      return { patch: { tags: [...ticket.tags, ...added] }, type: 'tagged', details: { added } };
    },
    after: async (tx, _ticket, event) => {
      const added = (event.details as { added: string[] }).added;
      await tx
        .insert(tagCatalog)
        .values(added.map((name) => ({ name, createdBy: event.actor })))
        .onConflictDoNothing();
    },
  });
}

export async function untagTicket(
  db: Database,
  actor: Actor,
  input: { ticketId: number; tags: readonly string[]; now?: Date },
) {
  const unwanted = normalizeTags(input.tags);
  return changeTicket(db, {
    ...input,
    actor,
    action: 'untag',
    permission: 'ticket.tag',
    plan: (ticket) => {
      const removed = ticket.tags.filter((tag) => unwanted.includes(tag));
      if (removed.length === 0) return null;
      return {
        patch: { tags: ticket.tags.filter((tag) => !removed.includes(tag)) },
        type: 'untagged',
        details: { removed },
      };
    },
  });
}

export const MAX_ESCALATION_TIER = 3;

/** Raises a ticket to a tier (1–3) with a reason; lowering a tier is a de-escalation, for leads. */
export async function escalateTicket(
  db: Database,
  actor: Actor,
  input: { ticketId: number; tier: number; reason: string; notify?: string | null; now?: Date },
) {
  const reason = input.reason.trim();
  if (!Number.isInteger(input.tier) || input.tier < 1 || input.tier > MAX_ESCALATION_TIER) {
    throw new AppError('invalid_input', `Escalation tier must be 1 to ${MAX_ESCALATION_TIER}.`, {
      details: { field: 'tier' },
    });
  }
  if (!reason)
    throw new AppError('invalid_input', 'Say why the ticket is escalated.', { details: { field: 'reason' } });
  return changeTicket(db, {
    ...input,
    actor,
    action: 'escalate',
    permission: 'ticket.escalate',
    plan: (ticket) => {
      if (ticket.escalationTier === input.tier && ticket.escalationReason === reason) return null;
      if (input.tier < ticket.escalationTier) requirePermission(actor, 'ticket.deescalate');
      return {
        patch: { escalationTier: input.tier, escalationReason: reason },
        type: 'escalated',
        details: { tier: input.tier, reason, notify: input.notify ?? null },
      };
    },
  });
}

/** Lowers the escalation tier by one (or to the given tier); tier 0 clears the escalation. */
export async function deescalateTicket(
  db: Database,
  actor: Actor,
  input: { ticketId: number; tier?: number; now?: Date },
) {
  return changeTicket(db, {
    ...input,
    actor,
    action: 'deescalate',
    permission: 'ticket.deescalate',
    plan: (ticket) => {
      if (ticket.escalationTier === 0) return null;
      const tier = Math.max(0, Math.min(input.tier ?? ticket.escalationTier - 1, ticket.escalationTier - 1));
      return {
        patch: { escalationTier: tier, escalationReason: tier === 0 ? null : ticket.escalationReason },
        type: 'deescalated',
        details: { tier },
      };
    },
  });
}

export interface ReplyInput {
  ticketId: number;
  text: string;
  /** The posts the text is split into for the channel (X threads long replies). */
  parts: readonly string[];
  /** Same key, same reply: a resubmitted modal records nothing new. */
  idempotencyKey: string;
  now?: Date;
}

/**
 * Records an agent's reply and queues it for the source's outbound path. The first reply sets the
 * first-response time; the ticket then waits on the customer (its SLA clock pauses). Replying to an
 * unclaimed ticket claims it for the replier.
 */
export async function recordReply(db: Database, actor: Actor, input: ReplyInput) {
  const userId = userIdOf(actor);
  const text = input.text.trim();
  if (!text || input.parts.length === 0) {
    throw new AppError('invalid_input', 'The reply is empty.', { details: { field: 'text' } });
  }
  const [existing] = await db.select().from(replies).where(eq(replies.idempotencyKey, input.idempotencyKey));
  if (existing) {
    const [ticket] = await db.select().from(tickets).where(eq(tickets.id, existing.ticketId));
    if (!ticket) throw new AppError('not_found', `Ticket #${existing.ticketId} does not exist.`);
    return { ticket, event: null, reply: existing };
  }
  const result = await changeTicket(db, {
    ...input,
    actor,
    action: 'reply',
    permission: 'ticket.reply',
    plan: (ticket, now) => {
      if (ticket.assignee && ticket.assignee !== userId) {
        throw new AppError(
          'already_claimed',
          `Ticket #${ticket.id} is claimed by <@${ticket.assignee}>; ask them or a lead to reassign it.`,
          {
            details: { ticketId: ticket.id, assignee: ticket.assignee },
          },
        );
      }
      return {
        patch: { assignee: userId, firstResponseAt: ticket.firstResponseAt ?? now },
        type: 'replied',
        details: { text, parts: input.parts.length },
      };
    },
    after: async (tx, ticket, event) => {
      const [reply] = await tx
        .insert(replies)
        .values({
          ticketId: ticket.id,
          sourceId: ticket.sourceId,
          sentBy: userId,
          text,
          parts: [...input.parts],
          idempotencyKey: input.idempotencyKey,
        })
        .returning();
      if (!reply) throw new Error('insert into replies returned no row');
      // The thread line and the audit log point at the reply they announce.
      await tx
        .update(ticketEvents)
        .set({ details: { ...event.details, replyId: reply.id } })
        .where(eq(ticketEvents.id, event.id));
      return reply;
    },
  });
  return { ticket: result.ticket, event: result.event, reply: result.extra! };
}

export async function resolveTicket(
  db: Database,
  actor: Actor,
  input: { ticketId: number; note?: string; now?: Date },
) {
  return changeTicket(db, {
    ...input,
    actor,
    action: 'resolve',
    permission: 'ticket.resolve',
    plan: (_ticket, now) => ({
      patch: { resolvedAt: now },
      type: 'resolved',
      details: input.note ? { note: input.note } : {},
    }),
  });
}

export async function reopenTicket(
  db: Database,
  actor: Actor,
  input: { ticketId: number; reason?: string; now?: Date },
) {
  return changeTicket(db, {
    ...input,
    actor,
    action: 'reopen',
    permission: 'ticket.reopen',
    plan: () => ({
      patch: { resolvedAt: null, closedAt: null, resolutionSla: 'ok' },
      type: 'reopened',
      details: input.reason ? { reason: input.reason } : {},
    }),
  });
}

export async function closeTicket(db: Database, actor: Actor, input: { ticketId: number; now?: Date }) {
  return changeTicket(db, {
    ...input,
    actor,
    action: 'close',
    permission: 'ticket.close',
    plan: (ticket, now) => ({ patch: { closedAt: now, resolvedAt: ticket.resolvedAt ?? now }, type: 'closed' }),
  });
}

/** Spam is closed at once and flagged, so it leaves the queue and the reports can leave it out. */
export async function markSpam(db: Database, actor: Actor, input: { ticketId: number; now?: Date }) {
  return changeTicket(db, {
    ...input,
    actor,
    action: 'mark_spam',
    permission: 'ticket.spam',
    plan: (_ticket, now) => ({ patch: { spam: 1, closedAt: now }, type: 'marked_spam' }),
  });
}

export interface TriageCorrection {
  category?: Category;
  sentiment?: Sentiment;
  priority?: Priority;
}

/**
 * An agent overrules triage. The correction is an event of its own (`corrected`), which is what the
 * evaluation reads to report how often triage was overruled. A new priority moves the SLA due times.
 */
export async function correctTriage(
  db: Database,
  actor: Actor,
  input: { ticketId: number; correction: TriageCorrection; now?: Date },
) {
  return changeTicket(db, {
    ...input,
    actor,
    action: 'correct',
    permission: 'ticket.correct',
    plan: (ticket) => {
      const patch: TicketPatch = {};
      const { category, sentiment, priority } = input.correction;
      if (category && category !== ticket.category) patch.category = category;
      if (sentiment && sentiment !== ticket.sentiment) patch.sentiment = sentiment;
      if (priority && priority !== ticket.priority) {
        patch.priority = priority;
        patch.priorityReasons = ['set by an agent'];
        Object.assign(patch, computeDueTimes(priority, ticket.createdAt));
      }
      const fields = Object.keys(patch).filter((key) => ['category', 'sentiment', 'priority'].includes(key));
      if (fields.length === 0) return null;
      return { patch, type: 'corrected', details: { fields } };
    },
  });
}
