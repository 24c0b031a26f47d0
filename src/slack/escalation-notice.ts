import type { Database } from '../db/database.js';
import { outbox } from '../db/schema/index.js';
import type { Ticket, TicketEvent } from '../tickets/types.js';
import { safeMrkdwn } from './mrkdwn.js';

/** Whom an escalation pages: a channel (posted to), a user group (mentioned in the card's thread), or both. */
export interface EscalationTargets {
  channel?: string | null;
  userGroup?: string | null;
}

const CHANNEL_ID = /^[CGD][A-Z0-9]+$/;
const GROUP_ID = /^S[A-Z0-9]+$/;

/** How the targets are written into the escalation event (`notify`): `C123`, `subteam^S123`, or both. */
export function describeTargets(targets: EscalationTargets): string | null {
  const parts = [
    targets.channel && CHANNEL_ID.test(targets.channel) ? targets.channel : null,
    targets.userGroup && GROUP_ID.test(targets.userGroup) ? `subteam^${targets.userGroup}` : null,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(',') : null;
}

/**
 * Queues the escalation's notifications as outbox `message` rows (the delivery worker posts them,
 * rate-limited and retried): a message in the chosen channel, and a user-group mention in the card's
 * thread (or the ticket's channel before the card exists). Keyed by the event, so a repeat adds nothing.
 */
export async function queueEscalationNotices(
  db: Database,
  input: { ticket: Ticket; event: TicketEvent; actorUserId: string; targets: EscalationTargets },
): Promise<number> {
  const { ticket, event, targets } = input;
  const reason = safeMrkdwn(String(event.details?.reason ?? ticket.escalationReason ?? ''), 500);
  const where = CHANNEL_ID.test(ticket.channel) ? ` in <#${ticket.channel}>` : '';
  const summary = `:rotating_light: <@${input.actorUserId}> escalated ticket #${ticket.id}${where} to tier ${ticket.escalationTier}: ${reason}`;
  const rows: (typeof outbox.$inferInsert)[] = [];
  if (targets.channel && CHANNEL_ID.test(targets.channel)) {
    rows.push({
      kind: 'message',
      channel: targets.channel,
      ticketId: ticket.id,
      eventId: event.id,
      dedupeKey: `escalation:${event.id}:channel`,
      payload: { text: summary },
    });
  }
  if (targets.userGroup && GROUP_ID.test(targets.userGroup)) {
    rows.push({
      kind: 'message',
      channel: ticket.channel,
      ticketId: ticket.id,
      eventId: event.id,
      dedupeKey: `escalation:${event.id}:group`,
      payload: {
        text: `<!subteam^${targets.userGroup}> ${summary}`,
        ...(ticket.slackTs ? { threadTs: ticket.slackTs } : {}),
      },
    });
  }
  if (rows.length === 0) return 0;
  const inserted = await db.insert(outbox).values(rows).onConflictDoNothing().returning({ id: outbox.id });
  return inserted.length;
}
