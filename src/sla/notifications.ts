import { safeMrkdwn } from '../slack/mrkdwn.js';
import type { Ticket } from '../tickets/types.js';
import type { SlaClockName } from './clock.js';
import { formatMinutes } from './policy.js';

const CHANNEL_ID = /^[CGD][A-Z0-9]+$/;

/** `#123` linked to the ticket's card when the card has been posted, plain otherwise. */
export function ticketLink(ticket: Pick<Ticket, 'id' | 'channel' | 'slackTs'>): string {
  if (ticket.slackTs && CHANNEL_ID.test(ticket.channel)) {
    return `<https://slack.com/archives/${ticket.channel}/p${ticket.slackTs.replace('.', '')}|#${ticket.id}>`;
  }
  return `#${ticket.id}`;
}

/** A channel as Slack links it (`<#C0123>`), or its escaped name. */
export function channelRef(channel: string): string {
  return CHANNEL_ID.test(channel) ? `<#${channel}>` : `#${safeMrkdwn(channel.replace(/^#/, ''), 80)}`;
}

/** `<!subteam^S0123>` for the channel's on-duty group (`*` is the default for every channel). */
export function onDutyMention(groups: Readonly<Record<string, string>>, channel: string): string | null {
  const group = groups[channel] ?? groups['*'];
  return group ? `<!subteam^${group}>` : null;
}

const CLOCK_WORDS: Record<SlaClockName, string> = { first_response: 'first response', resolution: 'resolution' };

/** The text of an SLA warning or breach, for a DM, the channel or the leads channel. */
export function buildSlaAlertText(input: {
  ticket: Pick<Ticket, 'id' | 'channel' | 'slackTs' | 'priority' | 'assignee'>;
  clock: SlaClockName;
  state: 'warning' | 'breached';
  targetMinutes: number;
  dueAt: Date | null;
  now: Date;
  mention?: string | null;
}): string {
  const { ticket, clock, state, targetMinutes } = input;
  const what = CLOCK_WORDS[clock];
  const link = ticketLink(ticket);
  const lead = input.mention ? `${input.mention} ` : '';
  const owner = ticket.assignee ? `<@${ticket.assignee}>` : 'nobody has claimed it';
  if (state === 'warning') {
    const left = input.dueAt ? formatMinutes(Math.max(1, (input.dueAt.getTime() - input.now.getTime()) / 60_000)) : '';
    return `${lead}:warning: ${ticket.priority} ticket ${link}: ${what} target (${formatMinutes(targetMinutes)}) is 75% used${left ? `, ${left} left` : ''}; ${owner}.`;
  }
  return `${lead}:rotating_light: ${ticket.priority} ticket ${link} breached its ${what} target of ${formatMinutes(targetMinutes)}; ${owner}.`;
}

/** The text of an automatic escalation of an unclaimed ticket. */
export function buildEscalationText(input: {
  ticket: Pick<Ticket, 'id' | 'channel' | 'slackTs' | 'priority'>;
  minutes: number;
  tier: number;
  mention?: string | null;
  /** Say where the ticket is (for the leads channel). */
  showChannel?: boolean;
}): string {
  const lead = input.mention ? `${input.mention} ` : '';
  const where = input.showChannel ? ` in ${channelRef(input.ticket.channel)}` : '';
  return `${lead}:arrow_double_up: ${input.ticket.priority} ticket ${ticketLink(input.ticket)}${where} has been unclaimed for ${formatMinutes(input.minutes)} (escalated to tier ${input.tier}).`;
}
