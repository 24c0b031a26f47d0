import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { replies, tickets } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { requirePermission } from '../tickets/permissions.js';
import { recordEvent } from '../tickets/timeline.js';
import type { Actor } from '../tickets/types.js';
import type { Reply } from './deliver.js';

/**
 * The card's retry button (`ticket_retry_reply`): puts a failed reply back in the delivery queue,
 * due now, with a fresh attempt budget. Parts already posted stay posted; delivery resumes after
 * them. Retrying a reply that is already queued changes nothing; one already sent is refused.
 */
export async function retryReply(
  db: Database,
  actor: Actor,
  replyId: number,
): Promise<{ reply: Reply; retried: boolean }> {
  requirePermission(actor, 'ticket.reply');
  return db.transaction(async (tx) => {
    const [reply] = await tx.select().from(replies).where(eq(replies.id, replyId)).for('update');
    if (!reply) throw new AppError('not_found', `Reply ${replyId} does not exist.`, { details: { replyId } });
    if (reply.status === 'pending') return { reply, retried: false };
    if (reply.status === 'done') {
      throw new AppError('conflict', 'This reply was already delivered.', { details: { replyId } });
    }
    const [queued] = await tx
      .update(replies)
      .set({ status: 'pending', attempts: 0, nextAttemptAt: sql`now()`, lastError: null })
      .where(and(eq(replies.id, replyId), eq(replies.status, 'failed')))
      .returning();
    const [ticket] = await tx
      .update(tickets)
      .set({ version: sql`${tickets.version} + 1`, updatedAt: sql`now()` })
      .where(eq(tickets.id, reply.ticketId))
      .returning();
    if (ticket) {
      await recordEvent(tx, ticket, {
        actor,
        type: 'reply_retried',
        details: { replyId, previousError: reply.lastError },
      });
    }
    return { reply: queued!, retried: true };
  });
}
