import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { replies, tags as tagCatalog, tickets } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { addLogContext } from '../observability/log-context.js';
import { computeDueTimes } from '../sla/policy.js';
import { loadSlaPolicies } from '../sla/settings.js';
import { nextStatus, type TicketAction } from './lifecycle.js';
import { can, type Permission, requirePermission } from './permissions.js';
import { slaClockPatch } from './sla-clock.js';
import { normalizeTags } from './tags.js';
import { recordEvent } from './timeline.js';
import {
  type Actor,
  actorId,
  type Category,
  isOpen,
  type Priority,
  type Reply,
  type Sentiment,
  type Ticket,
  type TicketEvent,
} from './types.js';

type TicketPatch = Partial<Omit<Ticket, 'id' | 'version' | 'createdAt' | 'updatedAt'>>;

/**
 * The outcome of an action. `changed` is false when the action was a legal repeat whose outcome
 * already held (a double click on Resolve, Claim by the holder, the same tags, a resubmitted
 * reply): it succeeded, wrote no event and queued nothing, and `event` is null.
 */
export interface ActionResult {
  ticket: Ticket;
  event: TicketEvent | null;
  changed: boolean;
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
  /**
   * The action's outcome already holds (Resolve on a resolved ticket, Reopen on an open one): the
   * repeat succeeds and changes nothing. Checked before the lifecycle, so a repeat is not "illegal";
   * anything else the lifecycle refuses is `invalid_transition`, even if it would change nothing.
   */
  holds?: (ticket: Ticket) => boolean;
  /** An earlier run of this very request (same idempotency key), looked up under the row lock. */
  replay?: (tx: Database, ticket: Ticket) => Promise<Extra | null>;
  /** Decides the change from the locked ticket (after the lifecycle allowed it); null: nothing to change. */
  plan: (ticket: Ticket, now: Date) => Plan | null;
  /** Further writes in the same transaction, after the ticket row and before its event, which may add details. */
  write?: (tx: Database, ticket: Ticket, plan: Plan) => Promise<{ extra: Extra; details?: Record<string, unknown> }>;
}

/**
 * The one path every ticket action takes: check the role, lock the row, replay or no-op a repeat,
 * check the transition, decide, update, append the event and queue the card, all in one transaction.
 * A refused action throws a coded AppError and changes nothing. The row lock makes concurrent
 * actions on one ticket take turns, so of fifty simultaneous claims exactly one wins.
 */
async function changeTicket<Extra = undefined>(
  db: Database,
  spec: ChangeSpec<Extra>,
): Promise<ActionResult & { extra: Extra | undefined }> {
  addLogContext({ ticketId: spec.ticketId });
  requirePermission(spec.actor, spec.permission);
  const now = spec.now ?? new Date();
  return db.transaction(async (tx) => {
    const [ticket] = await tx.select().from(tickets).where(eq(tickets.id, spec.ticketId)).for('update');
    if (!ticket)
      throw new AppError('not_found', `Ticket #${spec.ticketId} does not exist.`, {
        details: { ticketId: spec.ticketId },
      });
    const unchanged = (extra?: Extra) => ({ ticket, event: null, changed: false, extra });
    const replayed = spec.replay ? await spec.replay(tx, ticket) : null;
    if (replayed !== null) return unchanged(replayed);
    if (spec.holds?.(ticket)) return unchanged();
    const status = nextStatus(spec.action, ticket);
    const plan = spec.plan(ticket, now);
    if (!plan) return unchanged();
    const patch: TicketPatch = { ...plan.patch, ...slaClockPatch(ticket, ticket.status, status, now), status };
    const [updated] = await tx
      .update(tickets)
      .set({ ...patch, version: sql`${tickets.version} + 1`, updatedAt: now })
      .where(eq(tickets.id, ticket.id))
      .returning();
    if (!updated) throw new Error(`ticket ${ticket.id} vanished while locked`);
    const written = spec.write ? await spec.write(tx, updated, plan) : undefined;
    const changedKeys = Object.keys(plan.patch).concat(status !== ticket.status ? ['status'] : []) as (keyof Ticket)[];
    // Events are append-only: the row is written once, with everything it will ever say.
    const event = await recordEvent(tx, updated, {
      actor: spec.actor,
      type: plan.type,
      before: pick(ticket, changedKeys),
      after: pick(updated, changedKeys),
      details: { ...plan.details, ...written?.details },
    });
    return { ticket: updated, event, changed: true, extra: written?.extra };
  });
}

function pick(ticket: Ticket, keys: readonly (keyof Ticket)[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, ticket[key]]));
}

function userIdOf(actor: Actor): string {
  if (actor.kind !== 'user') throw new AppError('invalid_input', 'Only a person can hold a ticket.');
  return actor.userId;
}

function alreadyClaimed(ticket: Ticket, message = `Ticket #${ticket.id} is already claimed by <@${ticket.assignee}>.`) {
  return new AppError('already_claimed', message, { details: { ticketId: ticket.id, assignee: ticket.assignee } });
}

/**
 * Takes an unclaimed open ticket. Claiming an open ticket you hold is a no-op; one someone else
 * holds is `already_claimed`; a resolved or closed ticket is `invalid_transition`, whoever holds it.
 */
export async function claimTicket(db: Database, actor: Actor, input: { ticketId: number; now?: Date }) {
  const userId = userIdOf(actor);
  return changeTicket(db, {
    ...input,
    actor,
    action: 'claim',
    permission: 'ticket.claim',
    holds: (ticket) => isOpen(ticket.status) && ticket.assignee === userId,
    plan: (ticket) => {
      if (ticket.assignee) throw alreadyClaimed(ticket);
      return { patch: { assignee: userId }, type: 'claimed' };
    },
  });
}

/**
 * Puts a ticket back in the queue. Leads may unclaim anyone's ticket; others only their own. An open
 * ticket nobody holds is already unclaimed: a no-op.
 */
export async function unclaimTicket(db: Database, actor: Actor, input: { ticketId: number; now?: Date }) {
  return changeTicket(db, {
    ...input,
    actor,
    action: 'unclaim',
    permission: 'ticket.claim',
    holds: (ticket) => isOpen(ticket.status) && ticket.assignee === null,
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

/**
 * Gives a ticket to someone. Assigning to yourself is a claim (so taking a ticket someone else holds
 * needs a lead, as it does for them); assigning to others needs a lead. Assigning an open ticket to
 * whoever holds it is a no-op.
 */
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
    holds: (ticket) => isOpen(ticket.status) && ticket.assignee === input.assignee,
    plan: (ticket) => {
      if (self && ticket.assignee && !can(actor, 'ticket.assign')) throw alreadyClaimed(ticket);
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
    write: async (tx, _ticket, plan) => {
      const added = (plan.details as { added: string[] }).added;
      await tx
        .insert(tagCatalog)
        .values(added.map((name) => ({ name, createdBy: actorId(actor) })))
        .onConflictDoNothing();
      return { extra: undefined };
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
    holds: (ticket) =>
      isOpen(ticket.status) && ticket.escalationTier === input.tier && ticket.escalationReason === reason,
    plan: (ticket) => {
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
    holds: (ticket) => isOpen(ticket.status) && ticket.escalationTier === 0,
    plan: (ticket) => {
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

/** The idempotency key is already taken by a reply of another ticket, or by one committed a moment ago. */
class ReplyKeyTaken extends Error {}

/**
 * Records an agent's reply and queues it for the source's outbound path. The first reply sets the
 * first-response time; the ticket then waits on the customer (its SLA clock pauses). Replying to an
 * unclaimed ticket claims it for the replier. Idempotent on `idempotencyKey`, also under concurrency:
 * a repeat (however many at once) answers with the reply already recorded, `changed: false`.
 */
export async function recordReply(
  db: Database,
  actor: Actor,
  input: ReplyInput,
): Promise<ActionResult & { reply: Reply }> {
  const userId = userIdOf(actor);
  const text = input.text.trim();
  if (!text || input.parts.length === 0) {
    throw new AppError('invalid_input', 'The reply is empty.', { details: { field: 'text' } });
  }
  const key = input.idempotencyKey;
  try {
    const result = await changeTicket<Reply>(db, {
      ...input,
      actor,
      action: 'reply',
      permission: 'ticket.reply',
      // Under the row lock, so a delivery racing this one waits for it and then finds its reply.
      replay: async (tx, ticket) => {
        const [existing] = await tx.select().from(replies).where(eq(replies.idempotencyKey, key));
        if (existing && existing.ticketId !== ticket.id) throw new ReplyKeyTaken();
        return existing ?? null;
      },
      plan: (ticket, now) => {
        if (ticket.assignee && ticket.assignee !== userId) {
          throw alreadyClaimed(
            ticket,
            `Ticket #${ticket.id} is claimed by <@${ticket.assignee}>; ask them or a lead to reassign it.`,
          );
        }
        return {
          patch: { assignee: userId, firstResponseAt: ticket.firstResponseAt ?? now },
          type: 'replied',
          details: { text, parts: input.parts.length },
        };
      },
      write: async (tx, ticket) => {
        const [reply] = await tx
          .insert(replies)
          .values({
            ticketId: ticket.id,
            sourceId: ticket.sourceId,
            sentBy: userId,
            text,
            parts: [...input.parts],
            idempotencyKey: key,
          })
          .onConflictDoNothing({ target: replies.idempotencyKey })
          .returning();
        // Someone else's transaction holds the key: roll this one back and answer with their reply.
        if (!reply) throw new ReplyKeyTaken();
        // The thread line and the audit log point at the reply they announce.
        return { extra: reply, details: { replyId: reply.id } };
      },
    });
    return { ticket: result.ticket, event: result.event, changed: result.changed, reply: result.extra! };
  } catch (err) {
    if (!(err instanceof ReplyKeyTaken)) throw err;
    const [existing] = await db.select().from(replies).where(eq(replies.idempotencyKey, key));
    const [ticket] = existing ? await db.select().from(tickets).where(eq(tickets.id, existing.ticketId)) : [];
    if (!existing || !ticket) throw new Error(`reply idempotency key ${key} taken, but no reply holds it`);
    return { ticket, event: null, changed: false, reply: existing };
  }
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
    holds: (ticket) => ticket.status === 'resolved',
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
    holds: (ticket) => isOpen(ticket.status),
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
    holds: (ticket) => ticket.status === 'closed',
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
    holds: (ticket) => ticket.status === 'closed' && ticket.spam === 1,
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
  const policies = input.correction.priority ? await loadSlaPolicies(db) : undefined;
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
        Object.assign(patch, computeDueTimes(priority, ticket.createdAt, policies));
      }
      const fields = Object.keys(patch).filter((key) => ['category', 'sentiment', 'priority'].includes(key));
      if (fields.length === 0) return null;
      return { patch, type: 'corrected', details: { fields } };
    },
  });
}
