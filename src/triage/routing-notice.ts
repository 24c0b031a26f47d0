import type { Database } from '../db/database.js';
import { outbox } from '../db/schema/index.js';
import { safeMrkdwn } from '../slack/mrkdwn.js';
import type { Ticket } from '../tickets/types.js';
import type { Assessment } from './types.js';

const CATEGORY_WORDS: Record<Ticket['category'], string> = {
  question: 'question',
  complaint: 'complaint',
  bug_report: 'bug report',
  suggestion: 'suggestion',
  praise: 'praise',
  other: 'item',
};

/**
 * The notice a routing rule's `notify` sends when it routes a new ticket: a user group (`S…`) or
 * person (`U…`) is mentioned in the rule's channel, right after the card; a channel (`C…`/`G…`) gets
 * the notice posted in it, pointing at the ticket's channel. Null for a target Slack cannot ping.
 */
export function buildRoutingNotice(
  ticket: Pick<Ticket, 'id' | 'channel' | 'priority' | 'category'>,
  rule: { name: string },
  notify: string,
): { channel: string; text: string } | null {
  const what = `New ${ticket.priority} ${CATEGORY_WORDS[ticket.category]}, ticket #${ticket.id}, routed by rule “${safeMrkdwn(rule.name, 80)}”`;
  const where = /^[CG][A-Z0-9]+$/.test(ticket.channel) ? `<#${ticket.channel}>` : `#${safeMrkdwn(ticket.channel, 80)}`;
  if (/^S[A-Z0-9]+$/.test(notify)) return { channel: ticket.channel, text: `<!subteam^${notify}> ${what}.` };
  if (/^[UW][A-Z0-9]+$/.test(notify)) return { channel: ticket.channel, text: `<@${notify}> ${what}.` };
  if (/^[CG][A-Z0-9]+$/.test(notify)) return { channel: notify, text: `:bell: ${what} in ${where}.` };
  return null;
}

/**
 * Queues the routing rule's notice as an outbox `message` row, in the transaction that opened the
 * ticket. The card row was queued first, so in the ticket's channel the notice follows the card.
 * Keyed by the ticket: a replayed item adds nothing. Returns whether a notice was queued.
 */
export async function queueRoutingNotice(tx: Database, ticket: Ticket, assessment: Assessment): Promise<boolean> {
  if (!assessment.notify || !assessment.rule) return false;
  const notice = buildRoutingNotice(ticket, assessment.rule, assessment.notify);
  if (!notice) return false;
  const inserted = await tx
    .insert(outbox)
    .values({
      kind: 'message',
      channel: notice.channel,
      ticketId: ticket.id,
      dedupeKey: `route-notify:${ticket.id}`,
      payload: { text: notice.text },
    })
    .onConflictDoNothing()
    .returning({ id: outbox.id });
  return inserted.length > 0;
}
