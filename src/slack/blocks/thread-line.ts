import type { TicketEvent } from '../../tickets/types.js';
import { safeMrkdwn } from '../mrkdwn.js';
import { mentionActor, mentionUser } from './format.js';
import { LIMITS } from './limits.js';

export interface ThreadLineContext {
  /** The customer message a `customer_message` or `reopened` event announces, already PII-masked if configured. */
  itemText?: string | null;
  /** Characters of a quoted customer message. */
  quoteLimit?: number;
}

function detail(event: TicketEvent, key: string): unknown {
  return event.details?.[key];
}

function text(value: unknown, max: number): string | null {
  return typeof value === 'string' && value.trim() ? safeMrkdwn(value.trim(), max) : null;
}

function quoted(value: string, max: number): string {
  return safeMrkdwn(value, max).replace(/^/gm, '>');
}

/**
 * One line in a card's thread for a timeline event: "<@U1> claimed", "<@U2> escalated to tier 2:
 * refund over $500", the customer's follow-up quoted. Every free text (reasons, notes, the customer's
 * words, agents' replies) is escaped; only mentions Earshot builds from user ids are live.
 */
export function buildThreadLine(event: TicketEvent, context: ThreadLineContext = {}): string {
  const who = mentionActor(event.actor);
  const quoteLimit = context.quoteLimit ?? 1500;
  let line: string;
  switch (event.type) {
    case 'created':
      line = `${who} opened this ticket`;
      break;
    case 'claimed':
      line = `${who} claimed`;
      break;
    case 'unclaimed': {
      const previous = detail(event, 'previousAssignee');
      const theirs = typeof previous === 'string' && previous !== event.actor ? ` from ${mentionUser(previous)}` : '';
      line = `${who} unclaimed${theirs}; back in the queue`;
      break;
    }
    case 'assigned':
      line = `${who} assigned to ${mentionUser(detail(event, 'to') as string | null)}`;
      break;
    case 'tagged':
    case 'untagged': {
      const list = (detail(event, event.type === 'tagged' ? 'added' : 'removed') as unknown[] | undefined) ?? [];
      const tags = list
        .filter((t): t is string => typeof t === 'string')
        .slice(0, 20)
        .map((t) => `\`${safeMrkdwn(t, 40)}\``)
        .join(' ');
      line = `${who} ${event.type === 'tagged' ? 'tagged' : 'removed tags'} ${tags}`.trimEnd();
      break;
    }
    case 'escalated': {
      const reason = text(detail(event, 'reason'), 500);
      line = `${who} escalated to tier ${Number(detail(event, 'tier')) || '?'}${reason ? `: ${reason}` : ''}`;
      break;
    }
    case 'deescalated': {
      const tier = Number(detail(event, 'tier'));
      line = tier > 0 ? `${who} lowered the escalation to tier ${tier}` : `${who} cleared the escalation`;
      break;
    }
    case 'replied': {
      const reply = text(detail(event, 'text'), quoteLimit);
      const parts = Number(detail(event, 'parts')) || 1;
      const split = parts > 1 ? ` (in ${parts} posts)` : '';
      line = `${who} replied${split}${reply ? `:\n${reply.replace(/^/gm, '>')}` : ''}`;
      break;
    }
    case 'resolved': {
      const note = text(detail(event, 'note'), 500);
      line = `${who} resolved${note ? `: ${note}` : ''}`;
      break;
    }
    case 'reopened': {
      if (event.actor.startsWith('system:') && context.itemText) {
        line = `The customer wrote again; reopened:\n${quoted(context.itemText, quoteLimit)}`;
      } else {
        const reason = text(detail(event, 'reason'), 500);
        line = `${who} reopened${reason ? `: ${reason}` : ''}`;
      }
      break;
    }
    case 'customer_message':
      line = context.itemText
        ? `The customer wrote:\n${quoted(context.itemText, quoteLimit)}`
        : 'The customer wrote again';
      break;
    case 'closed':
      line = `${who} closed`;
      break;
    case 'marked_spam':
      line = `${who} marked this as spam`;
      break;
    case 'corrected': {
      const fieldsChanged = ((detail(event, 'fields') as unknown[] | undefined) ?? [])
        .filter((f): f is string => typeof f === 'string')
        .map((f) => safeMrkdwn(f, 30));
      const after = event.after ?? {};
      const changes = fieldsChanged.map((f) =>
        typeof after[f] === 'string' ? `${f} → ${safeMrkdwn(after[f] as string, 40)}` : f,
      );
      line = `${who} corrected triage${changes.length ? `: ${changes.join(', ')}` : ''}`;
      break;
    }
    case 'reply_sent': {
      const parts = Number(detail(event, 'parts')) || 1;
      line = `:outbox_tray: The reply is posted${parts > 1 ? ` (${parts} posts)` : ''}`;
      break;
    }
    case 'reply_failed': {
      const reason = text(detail(event, 'reason'), 300);
      line = `:x: The reply could not be posted${reason ? `: ${reason}` : ''}. Retry it from the card.`;
      break;
    }
    case 'reply_retried':
      line = `${who} retried the reply`;
      break;
    case 'sla_warning':
    case 'sla_breached': {
      const clock = detail(event, 'clock') === 'resolution' ? 'resolution' : 'first response';
      const minutes = Number(detail(event, 'targetMinutes'));
      const target = Number.isFinite(minutes) && minutes > 0 ? ` (${formatMinutes(minutes)})` : '';
      line =
        event.type === 'sla_warning'
          ? `:warning: The ${clock} target${target} is close`
          : `:rotating_light: The ${clock} target${target} was missed`;
      break;
    }
    case 'incident_linked':
      line = `${who} linked this to incident #${Number(detail(event, 'incidentId')) || '?'}`;
      break;
    case 'closing_message':
      line = `:envelope_with_arrow: The customer was sent the closing message${closingChannel(event)}`;
      break;
    case 'author_data_erased':
      line = `:wastebasket: ${who} erased the customer's personal data: their posts, the replies and the notes are gone from this ticket; counts and timings stay`;
      break;
    default:
      line = `${who}: ${safeMrkdwn(event.type.replace(/_/g, ' '), 100)}`;
  }
  return line.length <= LIMITS.sectionText ? line : `${line.slice(0, LIMITS.sectionText - 1)}…`;
}

/** How a closing message went out: " as a reply on X", " through the *shop-chat* webhook", or nothing for old events. */
function closingChannel(event: TicketEvent): string {
  const via = detail(event, 'via');
  const source = text(detail(event, 'source'), 80);
  if (via === 'X') return source ? ` as a reply on X (*${source}*)` : ' as a reply on X';
  if (via === 'webhook') return source ? ` through the *${source}* webhook` : ' through the webhook';
  return '';
}

function formatMinutes(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

/** Whether an event's thread line quotes a customer message (the worker then loads the item). */
export function threadLineNeedsItem(event: TicketEvent): boolean {
  return (
    (event.type === 'customer_message' || event.type === 'reopened') && typeof detail(event, 'itemId') === 'number'
  );
}
