import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import { ticketLink } from '../sla/notifications.js';
import { maskPii, plural } from '../slack/blocks/format.js';
import { ACTIONS, BLOCK_IDS } from '../slack/ids.js';
import { escapeMrkdwn, safeMrkdwn, truncate } from '../slack/mrkdwn.js';
import type { Ticket } from '../tickets/types.js';
import { findPii } from '../triage/pii.js';
import { type CrisisKind, sparkline } from './detector.js';

export type CrisisStatus = 'open' | 'acknowledged' | 'incident' | 'snoozed' | 'resolved';

/** A sample post as stored on the alert (customer text: escaped when rendered). */
export interface CrisisSample {
  text: string;
  author: string | null;
  url: string | null;
  followers: number;
  sentiment: string;
  ticketId: number | null;
}

/** What an alert row's `details` hold: the latest reading of the wave and its history. */
export interface CrisisAlertDetails {
  title: string;
  kinds: CrisisKind[];
  topic: string | null;
  sourceIds: number[];
  sourceNames: string[];
  count: number;
  mean: number;
  ratio: number | null;
  z: number | null;
  peakCount: number;
  windowMinutes: number;
  topTopics: { topic: string; count: number }[];
  topTerms: { term: string; count: number }[];
  samples: CrisisSample[];
  ticketIds: number[];
  trend: number[];
  incidentId?: number;
  resolvedBy?: string;
  snoozedBy?: string;
}

export interface CrisisAlertView {
  id: number;
  status: CrisisStatus;
  details: CrisisAlertDetails;
  acknowledgedBy: string | null;
  snoozedUntil: Date | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

const KIND_WORDS: Record<CrisisKind, string> = {
  volume: 'volume spike',
  negative_surge: 'negative-sentiment surge',
  cross_source: 'topic across sources',
  influencer: 'high-influence author',
};

const MAX_TICKET_LINKS = 15;

function hhmm(date: Date): string {
  return `${date.toISOString().slice(11, 16)} UTC`;
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function safeUrl(url: string | null): string | null {
  return url && /^https?:\/\/[^\s<>|]+$/.test(url) && url.length < 500 ? url : null;
}

export interface CrisisCardOptions {
  oncallGroup?: string | null;
  tickets?: readonly Pick<Ticket, 'id' | 'channel' | 'slackTs'>[];
  /** EARSHOT_MASK_PII: hide e-mails, phone, order and card numbers in the sample posts (default on). */
  maskPii?: boolean;
  /** A signed trend chart image (see trendChartUrl); without one the trend is a sparkline. */
  chartUrl?: string | null;
}

/**
 * The crisis alert card: what triggered it, counts against the baseline, top topics and terms, the
 * trend (a chart image when the app has a public URL, a sparkline otherwise), sample posts (masked
 * and escaped), links to the tickets, the state, and the on-call buttons. A pure function of the
 * alert and its options.
 */
export function buildCrisisAlertCard(
  alert: CrisisAlertView,
  options: CrisisCardOptions = {},
): { text: string; blocks: KnownBlock[] } {
  const d = alert.details;
  const mention = options.oncallGroup ? `<!subteam^${options.oncallGroup}> ` : '';
  const title = truncate(d.title, 140);
  const icon = alert.status === 'resolved' ? ':white_check_mark:' : ':rotating_light:';
  const triggers = d.kinds.map((k) => KIND_WORDS[k]).join(', ');
  const measured =
    d.kinds.includes('influencer') && d.kinds.length === 1
      ? `One negative post reaching *${d.samples[0]?.followers.toLocaleString('en-US') ?? '?'}* followers.`
      : `*${d.count}* posts in the last ${d.windowMinutes} min against a usual *${round(d.mean)}*` +
        (d.ratio !== null && Number.isFinite(d.ratio) ? ` (×${round(d.ratio)}` : ' (') +
        (d.z !== null && Number.isFinite(d.z) ? `, z ${round(d.z)})` : ')') +
        (d.peakCount > d.count ? ` · peak ${d.peakCount}` : '');
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: `${alert.status === 'resolved' ? '✅' : '🚨'} ${title}`, emoji: true },
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `${mention}${icon} Triggered by: *${escapeMrkdwn(triggers)}* on ${safeMrkdwn(d.sourceNames.join(', ') || 'all sources', 200)}\n${measured}`,
      },
    },
  ];
  const fields = [];
  if (d.topTopics.length > 0) {
    // One post (an influencer's) gives every topic a count of 1: the counts would say nothing.
    const counted = d.topTopics.some((t) => t.count > 1);
    const topics = d.topTopics.map((t) => `${safeMrkdwn(t.topic, 60)}${counted ? ` (${t.count})` : ''}`).join(', ');
    fields.push({ type: 'mrkdwn' as const, text: `*${counted ? 'Top topics' : 'Topics'}*\n${topics}` });
  }
  if (d.topTerms.length > 0) {
    const terms = d.topTerms.map((t) => `${safeMrkdwn(t.term, 40)} (${t.count})`).join(', ');
    fields.push({ type: 'mrkdwn' as const, text: `*Top terms*\n${terms}` });
  }
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  const steps = `${d.windowMinutes}-min steps, last ${d.trend.length}`;
  if (options.chartUrl) {
    blocks.push({
      type: 'image',
      image_url: options.chartUrl,
      alt_text: `Posts per ${d.windowMinutes} minutes, oldest first: ${d.trend.join(', ')}`.slice(0, 2000),
    });
  }
  const spark = options.chartUrl ? '' : `\`${sparkline(d.trend)}\` `;
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Trend (${steps}): ${spark}${d.trend.join(' · ')} · first seen ${hhmm(alert.firstSeenAt)} · updated ${hhmm(alert.lastSeenAt)}`,
      },
    ],
  });
  const mask = options.maskPii ?? true;
  for (const sample of d.samples.slice(0, 3)) {
    const who = sample.author ? safeMrkdwn(sample.author, 60) : 'someone';
    const url = safeUrl(sample.url);
    const link = url ? ` · <${url}|original>` : '';
    const ticket = sample.ticketId ? ` · ticket #${sample.ticketId}` : '';
    blocks.push(
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `> ${safeMrkdwn((mask ? maskPii(sample.text, findPii(sample.text)) : sample.text).replace(/\s+/g, ' '), 400)}`,
        },
      },
      // The byline as context, not italics: a handle with an underscore would end the span inside it.
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `${who}, ${sample.followers.toLocaleString('en-US')} followers, ${escapeMrkdwn(sample.sentiment)}${ticket}${link}`,
          },
        ],
      },
    );
  }
  if (d.ticketIds.length > 0) {
    const known = new Map((options.tickets ?? []).map((t) => [t.id, t]));
    const links = d.ticketIds
      .slice(0, MAX_TICKET_LINKS)
      .map((id) => ticketLink(known.get(id) ?? { id, channel: '', slackTs: null }));
    const more = d.ticketIds.length > MAX_TICKET_LINKS ? ` and ${d.ticketIds.length - MAX_TICKET_LINKS} more` : '';
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*Tickets* (${d.ticketIds.length}): ${links.join(', ')}${more}` },
    });
  }
  const state = statusLine(alert);
  if (state) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: state }] });
  if (alert.status !== 'resolved') blocks.push(buttons(alert));
  const text = `${mention}${icon} ${escapeMrkdwn(title)}: ${plural(d.count, 'post')} in ${d.windowMinutes} min (usual ${round(d.mean)})`;
  return { text, blocks };
}

function statusLine(alert: CrisisAlertView): string | null {
  const d = alert.details;
  const parts: string[] = [];
  if (alert.acknowledgedBy) parts.push(`:eyes: Acknowledged by <@${alert.acknowledgedBy}>`);
  if (d.incidentId) parts.push(`:fire_engine: Incident #${d.incidentId} declared; matching tickets are linked to it`);
  if (alert.status === 'snoozed' && alert.snoozedUntil) parts.push(`:zzz: Snoozed until ${hhmm(alert.snoozedUntil)}`);
  if (alert.status === 'resolved')
    parts.push(`:white_check_mark: Resolved${d.resolvedBy ? ` by <@${d.resolvedBy}>` : ''}`);
  return parts.length > 0 ? parts.join(' · ') : null;
}

function buttons(alert: CrisisAlertView): ActionsBlock {
  const value = String(alert.id);
  const elements: Button[] = [];
  if (!alert.acknowledgedBy) {
    elements.push({
      type: 'button',
      action_id: ACTIONS.crisisAcknowledge,
      text: { type: 'plain_text', text: 'Acknowledge' },
      value,
      style: 'primary',
    });
  }
  if (!alert.details.incidentId) {
    elements.push({
      type: 'button',
      action_id: ACTIONS.crisisIncident,
      text: { type: 'plain_text', text: 'Declare incident' },
      value,
      style: 'danger',
      confirm: {
        title: { type: 'plain_text', text: 'Declare an incident?' },
        text: { type: 'mrkdwn', text: 'Every matching ticket, now and later, is linked to it.' },
        confirm: { type: 'plain_text', text: 'Declare' },
        deny: { type: 'plain_text', text: 'Cancel' },
      },
    });
  }
  if (alert.status !== 'snoozed') {
    elements.push({
      type: 'button',
      action_id: ACTIONS.crisisSnooze,
      text: { type: 'plain_text', text: 'Snooze 30 min' },
      value,
    });
  }
  elements.push({
    type: 'button',
    action_id: ACTIONS.crisisResolve,
    text: { type: 'plain_text', text: 'Resolve' },
    value,
  });
  // Listeners read the alert id from the button value; the block id only keeps each card's apart.
  return { type: 'actions', block_id: `${BLOCK_IDS.crisisAlertPrefix}${alert.id}`, elements };
}
